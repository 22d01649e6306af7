namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// A frame decoder (the reader's <see cref="IDicomFrameDecoder"/> seam) that also says what it produced.
/// Output is one frame in native layout (PS3.5 §8.2): little endian units of BitsAllocated bits, samples in the
/// dataset's planar configuration. Codecs that convert colour (JPEG YCbCr → RGB, JPEG 2000 inverse MCT) return the
/// photometric interpretation of what they wrote.
/// </summary>
public interface IPixelFrameDecoder : IDicomFrameDecoder
{
    /// <summary>Short name for reports and benchmarks, e.g. "managed" or "CharLS (native)".</summary>
    string Name { get; }

    bool CanDecode(string transferSyntaxUid) => TransferSyntaxes.Contains(transferSyntaxUid);

    /// <summary>Decodes one frame into <paramref name="destination"/> (exactly <see cref="DicomImageDescription.FrameBytes"/> long) and returns the output photometric interpretation.</summary>
    string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination);

    void IDicomFrameDecoder.Decode(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination) => DecodeFrame(encoded, image, destination);
}
