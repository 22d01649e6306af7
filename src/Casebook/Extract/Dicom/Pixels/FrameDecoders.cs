namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// The decoder for each transfer syntax. Where a native library and a managed decoder both exist (8-bit JPEG), the
/// choice follows the measurement in docs/benchmarks.md; native libraries that are missing fall back to managed code
/// or a clear error.
/// </summary>
public static class FrameDecoders
{
    public static readonly NativeFrameDecoder Native = new();
    public static readonly RleFrameDecoder Rle = new();
    public static readonly JpegFrameDecoder ManagedJpeg = new();
    public static readonly TurboJpegFrameDecoder TurboJpeg = new();
    public static readonly CharLsFrameDecoder CharLs = new();
    public static readonly OpenJpegFrameDecoder OpenJpeg = new();

    /// <summary>Every decoder, including alternatives, for benchmarks and tests.</summary>
    public static IReadOnlyList<IPixelFrameDecoder> All { get; } = [Native, Rle, ManagedJpeg, TurboJpeg, CharLs, OpenJpeg];

    /// <summary>Prefer libjpeg-turbo for 8-bit lossy JPEG (it falls back to managed for what it cannot do).</summary>
    public static bool PreferNativeJpeg { get; set; } = true;

    /// <summary>The decoder for <paramref name="transferSyntaxUid"/>, or null when none handles it.</summary>
    public static IPixelFrameDecoder? Find(string transferSyntaxUid)
    {
        var uid = transferSyntaxUid.Trim('\0', ' ');
        if (PreferNativeJpeg && TurboJpegFrameDecoder.IsAvailable && ((IPixelFrameDecoder)TurboJpeg).CanDecode(uid)) return TurboJpeg;
        foreach (var d in All)
            if (d != TurboJpeg && d.CanDecode(uid)) return d;
        return null;
    }
}
