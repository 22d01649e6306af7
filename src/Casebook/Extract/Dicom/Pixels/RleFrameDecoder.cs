using System.Buffers.Binary;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// RLE Lossless (PS3.5 Annex G): a 64-byte header of up to 15 segment offsets, then one PackBits segment per byte
/// plane — for each sample, most significant byte first (G.2). Output follows the dataset's planar configuration.
/// </summary>
public sealed class RleFrameDecoder : IPixelFrameDecoder
{
    public string Name => "managed";
    public IReadOnlyCollection<string> TransferSyntaxes { get; } = [TransferSyntaxUids.RleLossless];

    public string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination)
    {
        if (encoded.Length < 64) throw new PixelDecodeException($"RLE frame of {encoded.Length} bytes is shorter than its 64-byte header (PS3.5 G.5)");
        var bytesPerSample = image.BitsAllocated / 8;
        if (image.BitsAllocated % 8 != 0 || bytesPerSample < 1) throw new PixelDecodeException($"RLE needs Bits Allocated a multiple of 8, got {image.BitsAllocated}");
        var segments = (int)BinaryPrimitives.ReadUInt32LittleEndian(encoded);
        var expected = bytesPerSample * image.SamplesPerPixel;
        if (segments != expected || segments > 15)
            throw new PixelDecodeException($"RLE header declares {segments} segments, {expected} expected for {image.SamplesPerPixel} samples of {image.BitsAllocated} bits");
        var pixels = image.Rows * image.Columns;
        var offsets = new int[segments + 1];
        for (var i = 0; i < segments; i++)
        {
            var o = BinaryPrimitives.ReadUInt32LittleEndian(encoded[(4 + 4 * i)..]);
            if (o < 64 || o > encoded.Length || (i > 0 && o < offsets[i - 1])) throw new PixelDecodeException($"RLE segment {i + 1} offset {o} is outside the frame ({encoded.Length} bytes) or out of order");
            offsets[i] = (int)o;
        }
        offsets[segments] = encoded.Length;
        var planar = image.SamplesPerPixel > 1 && image.PlanarConfiguration == 1;
        var plane = new byte[pixels];
        for (var seg = 0; seg < segments; seg++)
        {
            var sample = seg / bytesPerSample;
            var byteInUnit = bytesPerSample - 1 - seg % bytesPerSample; // MSB segment first; output little endian
            DecodeSegment(encoded[offsets[seg]..offsets[seg + 1]], plane, seg + 1);
            // Scatter the byte plane into the native layout.
            var stride = planar ? bytesPerSample : bytesPerSample * image.SamplesPerPixel;
            var start = planar ? sample * pixels * bytesPerSample + byteInUnit : sample * bytesPerSample + byteInUnit;
            for (int p = 0, at = start; p < pixels; p++, at += stride) destination[at] = plane[p];
        }
        return image.PhotometricInterpretation;
    }

    /// <summary>PackBits (G.3.2): n in 0..127 copies n+1 literal bytes, n in -127..-1 repeats the next byte 1−n times, -128 is a no-op.</summary>
    static void DecodeSegment(ReadOnlySpan<byte> src, Span<byte> dst, int segment)
    {
        int i = 0, o = 0;
        while (o < dst.Length && i < src.Length)
        {
            var n = (sbyte)src[i++];
            if (n >= 0)
            {
                var len = n + 1;
                if (i + len > src.Length) throw new PixelDecodeException($"RLE segment {segment}: literal run of {len} bytes overruns the segment");
                len = Math.Min(len, dst.Length - o);
                src.Slice(i, len).CopyTo(dst[o..]);
                i += n + 1; o += len;
            }
            else if (n != -128)
            {
                if (i >= src.Length) throw new PixelDecodeException($"RLE segment {segment}: replicate run without its byte");
                var len = Math.Min(1 - n, dst.Length - o);
                dst.Slice(o, len).Fill(src[i++]);
                o += len;
            }
        }
        if (o < dst.Length) throw new PixelDecodeException($"RLE segment {segment} decodes to {o} bytes, {dst.Length} expected (truncated)");
    }
}
