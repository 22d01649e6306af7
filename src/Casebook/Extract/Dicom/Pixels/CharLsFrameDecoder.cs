using System.Runtime.InteropServices;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// JPEG-LS lossless and near-lossless (ISO 14495-1) through CharLS 2.x's C API (Debian libcharls2). The header is read
/// and checked against the dataset before anything is decoded, so a lying codestream cannot make CharLS allocate or
/// write beyond the frame. CharLS returns sample- and line-interleaved colour pixel by pixel, and "none" as planes.
/// </summary>
public sealed unsafe class CharLsFrameDecoder : IPixelFrameDecoder
{
    const string Lib = "libcharls.so.2";

    public string Name => "CharLS (native)";
    public IReadOnlyCollection<string> TransferSyntaxes { get; } = [TransferSyntaxUids.JpegLsLossless, TransferSyntaxUids.JpegLsNearLossless];

    static readonly Lazy<bool> Loaded = new(() => NativeLibrary.TryLoad(Lib, typeof(CharLsFrameDecoder).Assembly, null, out _));
    /// <summary>True when libcharls.so.2 can be loaded.</summary>
    public static bool IsAvailable => Loaded.Value;

    [StructLayout(LayoutKind.Sequential)]
    struct FrameInfo { public uint Width; public uint Height; public int BitsPerSample; public int ComponentCount; }

    [DllImport(Lib)] static extern nint charls_jpegls_decoder_create();
    [DllImport(Lib)] static extern void charls_jpegls_decoder_destroy(nint decoder);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_set_source_buffer(nint decoder, byte* source, nuint size);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_read_header(nint decoder);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_get_frame_info(nint decoder, FrameInfo* info);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_get_interleave_mode(nint decoder, int* mode);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_get_near_lossless(nint decoder, int component, int* near);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_get_destination_size(nint decoder, uint stride, nuint* size);
    [DllImport(Lib)] static extern int charls_jpegls_decoder_decode_to_buffer(nint decoder, byte* destination, nuint size, uint stride);
    [DllImport(Lib)] static extern nint charls_get_error_message(int error);

    /// <summary>charls_jpegls_errc.jpeg_marker_start_byte_not_found: raised after the last line when the scan is followed by padding, not EOI.</summary>
    const int MarkerStartByteNotFound = 12;

    /// <summary>
    /// Decoding checks for EOI only after every line is decoded. Some encoders pad the scan with 0x00 before EOI
    /// (wg04 MR1_JLSL, which dcmtk and GDCM decode); a missing marker at that point leaves a complete image, so it is accepted.
    /// </summary>
    static void CheckDecode(int rc)
    {
        if (rc == MarkerStartByteNotFound) return;
        Check(rc, "decode");
    }

    static void Check(int rc, string step)
    {
        if (rc == 0) return;
        var msg = Marshal.PtrToStringUTF8(charls_get_error_message(rc)) ?? "unknown error";
        throw new PixelDecodeException($"JPEG-LS (CharLS) {step} failed: {msg} (charls error {rc})");
    }

    /// <summary>
    /// Fuzz finding (fuzz/regressions/charls-no-eoi-12s.dcm): when a scan holds garbage and the codestream does not end
    /// in a marker, CharLS 2.4.1 spends ~12 s (100×100×3) before reporting error 5, and a native call cannot be
    /// interrupted. With an EOI (FFD9) at the end it fails at once. So a frame that does not end in EOI (after the
    /// PS3.5 §A.4 0x00 fragment padding) is decoded from a copy with EOI appended; complete streams are unaffected.
    /// </summary>
    static ReadOnlySpan<byte> WithEndOfImage(ReadOnlySpan<byte> encoded)
    {
        var trimmed = encoded.TrimEnd((byte)0);
        if (trimmed.Length >= 2 && trimmed[^2] == 0xFF && trimmed[^1] == 0xD9) return encoded;
        var copy = new byte[encoded.Length + 2];
        encoded.CopyTo(copy);
        copy[^2] = 0xFF; copy[^1] = 0xD9;
        return copy;
    }

    public string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination)
    {
        if (!IsAvailable) throw new PixelDecodeException($"JPEG-LS needs CharLS ({Lib}, Debian package libcharls2), which is not installed");
        if (encoded.Length < 4) throw new PixelDecodeException("JPEG-LS frame is empty or truncated");
        encoded = WithEndOfImage(encoded);
        var decoder = charls_jpegls_decoder_create();
        if (decoder == 0) throw new PixelDecodeException("CharLS could not create a decoder");
        try
        {
            fixed (byte* src = encoded)
            {
                Check(charls_jpegls_decoder_set_source_buffer(decoder, src, (nuint)encoded.Length), "set source");
                Check(charls_jpegls_decoder_read_header(decoder), "read header");
                FrameInfo info;
                Check(charls_jpegls_decoder_get_frame_info(decoder, &info), "frame info");
                if (info.Width != image.Columns || info.Height != image.Rows || info.ComponentCount != image.SamplesPerPixel)
                    throw new PixelDecodeException($"JPEG-LS codestream is {info.Width}×{info.Height}×{info.ComponentCount}, the dataset says {image.Columns}×{image.Rows}×{image.SamplesPerPixel}");
                if (info.BitsPerSample is < 2 or > 16 || info.BitsPerSample > image.BitsAllocated)
                    throw new PixelDecodeException($"JPEG-LS codestream has {info.BitsPerSample} bits per sample, Bits Allocated is {image.BitsAllocated}");
                int mode;
                Check(charls_jpegls_decoder_get_interleave_mode(decoder, &mode), "interleave mode");
                nuint size;
                Check(charls_jpegls_decoder_get_destination_size(decoder, 0, &size), "destination size");
                var bytesPerSample = info.BitsPerSample > 8 ? 2 : 1;
                var pixels = image.Rows * image.Columns;
                var expected = (long)pixels * info.ComponentCount * bytesPerSample;
                if ((long)size != expected) throw new PixelDecodeException($"CharLS wants {size} bytes for a {expected}-byte frame");
                var codecPlanar = mode == 0 && info.ComponentCount > 1;
                var wantPlanar = image.SamplesPerPixel > 1 && image.PlanarConfiguration == 1;
                // Fast path: CharLS's layout is already the native one.
                if (bytesPerSample == image.BitsAllocated / 8 && (info.ComponentCount == 1 || codecPlanar == wantPlanar) && destination.Length >= (long)size)
                {
                    fixed (byte* dst = destination) CheckDecode(charls_jpegls_decoder_decode_to_buffer(decoder, dst, size, 0));
                    return image.PhotometricInterpretation;
                }
                var buffer = new byte[size];
                fixed (byte* dst = buffer) CheckDecode(charls_jpegls_decoder_decode_to_buffer(decoder, dst, size, 0));
                var planes = new int[info.ComponentCount][];
                for (var c = 0; c < planes.Length; c++)
                {
                    var plane = planes[c] = new int[pixels];
                    for (var i = 0; i < pixels; i++)
                    {
                        var index = codecPlanar ? c * pixels + i : i * info.ComponentCount + c;
                        plane[i] = bytesPerSample == 1 ? buffer[index] : buffer[2 * index] | buffer[2 * index + 1] << 8;
                    }
                }
                FrameWriter.Write(planes, image.Columns, image.Rows, image, destination);
                return image.PhotometricInterpretation;
            }
        }
        finally { charls_jpegls_decoder_destroy(decoder); }
    }
}
