using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// JPEG 2000 (Part 1 and Part 2 syntaxes) and High-Throughput JPEG 2000 (Part 15; OpenJPEG ≥ 2.5 decodes it) through
/// OpenJPEG's C API (Debian libopenjp2-7) with an in-memory stream. The header is read first and checked against the
/// dataset before decoding. OpenJPEG applies the inverse RCT/ICT itself, so YBR_RCT / YBR_ICT come back as RGB
/// (PS3.5 §8.2.4).
/// </summary>
public sealed unsafe class OpenJpegFrameDecoder : IPixelFrameDecoder
{
    const string Lib = "libopenjp2.so.7";

    public string Name => "OpenJPEG (native)";
    public IReadOnlyCollection<string> TransferSyntaxes { get; } =
    [
        TransferSyntaxUids.Jpeg2000Lossless, TransferSyntaxUids.Jpeg2000, TransferSyntaxUids.Jpeg2000Part2Lossless, TransferSyntaxUids.Jpeg2000Part2,
        TransferSyntaxUids.HtJpeg2000Lossless, TransferSyntaxUids.HtJpeg2000RpclLossless, TransferSyntaxUids.HtJpeg2000,
    ];

    static readonly Lazy<bool> Loaded = new(() => NativeLibrary.TryLoad(Lib, typeof(OpenJpegFrameDecoder).Assembly, null, out _));
    public static bool IsAvailable => Loaded.Value;

    /// <summary>Decoder threads inside OpenJPEG (1 keeps it polite on shared machines; frames can be decoded in parallel instead).</summary>
    public int Threads { get; init; } = 1;

    // opj_image_t (openjpeg.h 2.5): x0, y0, x1, y1, numcomps, color_space, comps*, icc_profile_buf*, icc_profile_len
    [StructLayout(LayoutKind.Sequential)]
    struct OpjImage { public uint X0, Y0, X1, Y1, NumComps; public int ColorSpace; public OpjImageComp* Comps; public byte* Icc; public uint IccLen; }

    // opj_image_comp_t (2.5): dx, dy, w, h, x0, y0, prec, bpp (deprecated), sgnd, resno_decoded, factor, data*, alpha
    [StructLayout(LayoutKind.Sequential)]
    struct OpjImageComp { public uint Dx, Dy, W, H, X0, Y0, Prec, Bpp, Sgnd, ResnoDecoded, Factor; public int* Data; public ushort Alpha; }

    struct MemoryStream { public byte* Data; public long Length; public long Position; }

    [DllImport(Lib)] static extern nint opj_create_decompress(int format);
    [DllImport(Lib)] static extern void opj_set_default_decoder_parameters(byte* parameters);
    [DllImport(Lib)] static extern int opj_setup_decoder(nint codec, byte* parameters);
    [DllImport(Lib)] static extern int opj_codec_set_threads(nint codec, int threads);
    [DllImport(Lib)] static extern int opj_set_error_handler(nint codec, delegate* unmanaged[Cdecl]<byte*, nint, void> handler, nint userData);
    [DllImport(Lib)] static extern nint opj_stream_create(nuint bufferSize, int isInput);
    [DllImport(Lib)] static extern void opj_stream_set_read_function(nint stream, delegate* unmanaged[Cdecl]<byte*, nuint, MemoryStream*, nuint> fn);
    [DllImport(Lib)] static extern void opj_stream_set_skip_function(nint stream, delegate* unmanaged[Cdecl]<long, MemoryStream*, long> fn);
    [DllImport(Lib)] static extern void opj_stream_set_seek_function(nint stream, delegate* unmanaged[Cdecl]<long, MemoryStream*, int> fn);
    [DllImport(Lib)] static extern void opj_stream_set_user_data(nint stream, MemoryStream* data, nint free);
    [DllImport(Lib)] static extern void opj_stream_set_user_data_length(nint stream, ulong length);
    [DllImport(Lib)] static extern int opj_read_header(nint stream, nint codec, OpjImage** image);
    [DllImport(Lib)] static extern int opj_decode(nint codec, nint stream, OpjImage* image);
    [DllImport(Lib)] static extern int opj_end_decompress(nint codec, nint stream);
    [DllImport(Lib)] static extern void opj_stream_destroy(nint stream);
    [DllImport(Lib)] static extern void opj_destroy_codec(nint codec);
    [DllImport(Lib)] static extern void opj_image_destroy(OpjImage* image);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static nuint Read(byte* buffer, nuint count, MemoryStream* s)
    {
        var left = s->Length - s->Position;
        if (left <= 0) return unchecked((nuint)(-1));
        var n = (long)Math.Min((ulong)left, count);
        Buffer.MemoryCopy(s->Data + s->Position, buffer, (long)count, n);
        s->Position += n;
        return (nuint)n;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static long Skip(long count, MemoryStream* s)
    {
        var target = Math.Clamp(s->Position + count, 0, s->Length);
        var moved = target - s->Position;
        s->Position = target;
        return moved;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static int Seek(long position, MemoryStream* s)
    {
        if (position < 0 || position > s->Length) return 0;
        s->Position = position;
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static void OnError(byte* message, nint userData)
    {
        if (GCHandle.FromIntPtr(userData).Target is StringBuilder sb && sb.Length < 2000)
            sb.Append(Marshal.PtrToStringUTF8((nint)message)?.Trim()).Append("; ");
    }

    public string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination)
    {
        var (width, height, planes) = Decode(encoded, image.Rows, image.Columns, image.SamplesPerPixel);
        FrameWriter.Write(planes, width, height, image, destination);
        var pi = image.PhotometricInterpretation;
        return pi is "YBR_RCT" or "YBR_ICT" ? "RGB" : pi;
    }

    /// <summary>Decodes a J2K codestream or JP2 file to component planes, refusing a header that disagrees with the expected size.</summary>
    public (int Width, int Height, int[][] Planes) Decode(ReadOnlySpan<byte> encoded, int rows, int columns, int samples)
    {
        if (!IsAvailable) throw new PixelDecodeException($"JPEG 2000 needs OpenJPEG ({Lib}, Debian package libopenjp2-7), which is not installed");
        if (encoded.Length < 12) throw new PixelDecodeException("JPEG 2000 frame is empty or truncated");
        // J2K codestream starts with SOC+SIZ (FF4F FF51); a JP2 file with the signature box.
        int format;
        if (encoded[0] == 0xFF && encoded[1] == 0x4F) format = 0;
        else if (encoded[4..8].SequenceEqual("jP  "u8)) format = 2;
        else throw new PixelDecodeException("JPEG 2000 frame starts with neither a codestream SOC marker (FF4F) nor a JP2 signature box");

        var errors = new StringBuilder();
        var handle = GCHandle.Alloc(errors);
        var codec = opj_create_decompress(format);
        var stream = opj_stream_create(1 << 16, 1);
        OpjImage* img = null;
        try
        {
            if (codec == 0 || stream == 0) throw new PixelDecodeException("OpenJPEG could not create a decoder");
            opj_set_error_handler(codec, &OnError, GCHandle.ToIntPtr(handle));
            var parameters = stackalloc byte[32 * 1024]; // opj_dparameters_t is ~8.3 KB in 2.5; room to spare
            new Span<byte>(parameters, 32 * 1024).Clear();
            opj_set_default_decoder_parameters(parameters);
            if (opj_setup_decoder(codec, parameters) == 0) throw Fail("setup", errors);
            if (Threads > 1) opj_codec_set_threads(codec, Threads);
            fixed (byte* data = encoded)
            {
                var ms = new MemoryStream { Data = data, Length = encoded.Length };
                opj_stream_set_read_function(stream, &Read);
                opj_stream_set_skip_function(stream, &Skip);
                opj_stream_set_seek_function(stream, &Seek);
                opj_stream_set_user_data(stream, &ms, 0);
                opj_stream_set_user_data_length(stream, (ulong)encoded.Length);
                if (opj_read_header(stream, codec, &img) == 0 || img == null) throw Fail("read header", errors);
                var w = (long)img->X1 - img->X0; var h = (long)img->Y1 - img->Y0;
                if (w != columns || h != rows || img->NumComps != samples)
                    throw new PixelDecodeException($"JPEG 2000 codestream is {w}×{h}×{img->NumComps}, the dataset says {columns}×{rows}×{samples}");
                for (var c = 0; c < img->NumComps; c++)
                    if (img->Comps[c].Dx != 1 || img->Comps[c].Dy != 1 || img->Comps[c].Prec is 0 or > 31)
                        throw new PixelDecodeException($"JPEG 2000 component {c} is subsampled ({img->Comps[c].Dx}×{img->Comps[c].Dy}) or has precision {img->Comps[c].Prec}; not supported");
                if (opj_decode(codec, stream, img) == 0) throw Fail("decode", errors);
                opj_end_decompress(codec, stream);
                var pixels = rows * columns;
                var planes = new int[samples][];
                for (var c = 0; c < samples; c++)
                {
                    var comp = img->Comps[c];
                    if (comp.Data == null || comp.W != columns || comp.H != rows) throw new PixelDecodeException($"OpenJPEG returned component {c} as {comp.W}×{comp.H} without full data");
                    planes[c] = new Span<int>(comp.Data, pixels).ToArray();
                }
                return (columns, rows, planes);
            }
        }
        finally
        {
            if (img != null) opj_image_destroy(img);
            if (stream != 0) opj_stream_destroy(stream);
            if (codec != 0) opj_destroy_codec(codec);
            handle.Free();
        }
    }

    static PixelDecodeException Fail(string step, StringBuilder errors) =>
        new($"JPEG 2000 (OpenJPEG) {step} failed: {(errors.Length > 0 ? errors.ToString().TrimEnd(' ', ';') : "malformed codestream")}");
}
