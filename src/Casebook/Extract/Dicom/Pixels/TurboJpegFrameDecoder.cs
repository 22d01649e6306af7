using System.Runtime.InteropServices;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// 8-bit lossy JPEG through libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0, 2.1: 8-bit DCT only). Used where
/// libjpeg's colour decision matches ours (one component, or a JFIF/Adobe marker); 12-bit, lossless, planar output and
/// marker-less colour streams (where the dataset decides) go to the managed decoder.
/// </summary>
public sealed unsafe class TurboJpegFrameDecoder : IPixelFrameDecoder
{
    const string Lib = "libturbojpeg.so.0";
    const int TJPF_RGB = 0, TJPF_GRAY = 6, TJCS_RGB = 0, TJFLAG_ACCURATEDCT = 4096;

    readonly JpegFrameDecoder _managed = new();

    public string Name => "libjpeg-turbo (native)";
    public IReadOnlyCollection<string> TransferSyntaxes { get; } = [TransferSyntaxUids.JpegBaseline, TransferSyntaxUids.JpegExtended];

    static readonly Lazy<bool> Loaded = new(() => NativeLibrary.TryLoad(Lib, typeof(TurboJpegFrameDecoder).Assembly, null, out _));
    public static bool IsAvailable => Loaded.Value;

    [DllImport(Lib)] static extern nint tjInitDecompress();
    [DllImport(Lib)] static extern int tjDestroy(nint handle);
    [DllImport(Lib)] static extern int tjDecompressHeader3(nint handle, byte* jpeg, nuint size, int* width, int* height, int* subsamp, int* colorspace);
    [DllImport(Lib)] static extern int tjDecompress2(nint handle, byte* jpeg, nuint size, byte* dst, int width, int pitch, int height, int pixelFormat, int flags);
    [DllImport(Lib)] static extern nint tjGetErrorStr2(nint handle);

    [ThreadStatic] static nint _handle;

    public string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination)
    {
        if (!IsAvailable || image.BitsAllocated != 8 || image.SamplesPerPixel is not (1 or 3) || (image.SamplesPerPixel == 3 && image.PlanarConfiguration == 1))
            return _managed.DecodeFrame(encoded, image, destination);
        var header = JpegDecoder.ReadHeader(encoded);
        if (header.Precision != 8 || header.Sof is not (0xC0 or 0xC1)) return _managed.DecodeFrame(encoded, image, destination);
        if (header.Width != image.Columns || header.Height != image.Rows || header.Components != image.SamplesPerPixel)
            throw new PixelDecodeException($"JPEG codestream is {header.Width}×{header.Height}×{header.Components}, the dataset says {image.Columns}×{image.Rows}×{image.SamplesPerPixel}");
        if (header.Components == 3 && !JpegDecoder.HasColourMarker(encoded)) return _managed.DecodeFrame(encoded, image, destination);
        if (_handle == 0) _handle = tjInitDecompress();
        if (_handle == 0) throw new PixelDecodeException("libjpeg-turbo could not create a decompressor");
        fixed (byte* src = encoded)
        fixed (byte* dst = destination)
        {
            int w, h, sub, cs;
            if (tjDecompressHeader3(_handle, src, (nuint)encoded.Length, &w, &h, &sub, &cs) != 0) throw Fail("read header");
            var format = header.Components == 1 ? TJPF_GRAY : TJPF_RGB;
            var pitch = w * header.Components;
            if ((long)pitch * h > destination.Length) throw new PixelDecodeException("JPEG frame larger than the destination");
            if (tjDecompress2(_handle, src, (nuint)encoded.Length, dst, w, pitch, h, format, TJFLAG_ACCURATEDCT) != 0) throw Fail("decode");
            return header.Components == 3 && cs != TJCS_RGB ? "RGB" : image.PhotometricInterpretation;
        }
    }

    PixelDecodeException Fail(string step) => new($"JPEG (libjpeg-turbo) {step} failed: {Marshal.PtrToStringUTF8(tjGetErrorStr2(_handle))}");
}
