namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// Uncompressed frames (PS3.5 §8.1.1): the four native syntaxes and Encapsulated Uncompressed (one frame per fragment).
/// Big endian units are swapped to little endian; everything else is already in native layout.
/// </summary>
public sealed class NativeFrameDecoder : IPixelFrameDecoder
{
    public string Name => "native (uncompressed)";
    public IReadOnlyCollection<string> TransferSyntaxes { get; } =
    [
        TransferSyntaxUids.ImplicitVRLittleEndian, TransferSyntaxUids.ExplicitVRLittleEndian, TransferSyntaxUids.DeflatedExplicitVRLittleEndian,
        TransferSyntaxUids.ExplicitVRBigEndian, TransferSyntaxUids.EncapsulatedUncompressed,
    ];

    /// <summary>Set for Explicit VR Big Endian: units of Bits Allocated are byte-swapped.</summary>
    public bool BigEndian { get; init; }

    public string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination)
    {
        var need = (int)image.FrameBytes;
        if (encoded.Length < need) throw new PixelDecodeException($"native frame holds {encoded.Length} bytes, {need} expected for {image.Rows}×{image.Columns}×{image.SamplesPerPixel} at {image.BitsAllocated} bits");
        encoded[..need].CopyTo(destination);
        if (BigEndian) SwapUnits(destination[..need], image.BitsAllocated / 8);
        return image.PhotometricInterpretation;
    }

    internal static void SwapUnits(Span<byte> data, int unit)
    {
        if (unit < 2) return;
        for (var i = 0; i + unit <= data.Length; i += unit) data.Slice(i, unit).Reverse();
    }
}
