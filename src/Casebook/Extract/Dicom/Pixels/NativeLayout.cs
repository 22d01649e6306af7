using System.Buffers.Binary;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// Native pixel layout (PS3.5 §8.1.1, §8.2): turns a frame of Bits Allocated units, in either planar configuration,
/// into stored values — bits High Bit−Bits Stored+1 … High Bit kept, sign-extended when Pixel Representation is 1,
/// samples interleaved.
/// </summary>
public static class NativeLayout
{
    /// <summary>Effective Bits Stored and High Bit: missing or contradictory values fall back to Bits Allocated (as pydicom and dcmtk do).</summary>
    public static (int BitsStored, int HighBit) StoredBits(DicomImageDescription image)
    {
        var stored = image.BitsStored is > 0 && image.BitsStored <= image.BitsAllocated ? image.BitsStored : image.BitsAllocated;
        var high = image.HighBit >= stored - 1 && image.HighBit < image.BitsAllocated ? image.HighBit : stored - 1;
        return (stored, high);
    }

    /// <summary>Validates the Image Pixel attributes a decoder relies on; throws <see cref="PixelDecodeException"/> naming the bad one.</summary>
    public static void Validate(DicomImageDescription image)
    {
        if (image.Rows <= 0 || image.Columns <= 0) throw new PixelDecodeException($"Rows (0028,0010) and Columns (0028,0011) must be positive, got {image.Rows}×{image.Columns}");
        if (image.SamplesPerPixel is < 1 or > 4) throw new PixelDecodeException($"Samples per Pixel (0028,0002) {image.SamplesPerPixel} is not supported");
        if (image.BitsAllocated != 1 && (image.BitsAllocated % 8 != 0 || image.BitsAllocated is < 8 or > 32))
            throw new PixelDecodeException($"Bits Allocated (0028,0100) {image.BitsAllocated} is not supported (1, 8, 16, 24 or 32)");
        if (image.PixelRepresentation is not (0 or 1)) throw new PixelDecodeException($"Pixel Representation (0028,0103) must be 0 or 1, got {image.PixelRepresentation}");
    }

    /// <summary>Converts one native frame to stored values in <paramref name="destination"/> (type from <see cref="PixelData.TypeFor"/>).</summary>
    /// <param name="clampUnsigned">For codec output: an unsigned value above 2^BitsStored−1 (lossy overshoot) is clamped instead of losing its high bits.</param>
    public static void ToStored(ReadOnlySpan<byte> frame, DicomImageDescription image, Span<byte> destination, bool clampUnsigned = false)
    {
        if (image.BitsAllocated == 1) { UnpackBits(frame, 0, image, destination); return; }
        var type = PixelData.TypeFor(image.BitsAllocated, image.PixelRepresentation);
        var unit = image.BitsAllocated / 8;
        var spp = image.SamplesPerPixel;
        var pixels = image.Rows * image.Columns;
        var count = pixels * spp;
        if (frame.Length < count * unit) throw new PixelDecodeException($"frame holds {frame.Length} bytes, {count * unit} expected");
        var (bitsStored, highBit) = StoredBits(image);
        var shift = highBit - bitsStored + 1;
        var planar = spp > 1 && image.PlanarConfiguration == 1;
        var outSize = PixelData.SizeOf(type);

        // Fast path: whole units, interleaved, same width as the output.
        if (!planar && shift == 0 && bitsStored == image.BitsAllocated && unit == outSize)
        {
            frame[..(count * unit)].CopyTo(destination);
            return;
        }

        var mask = bitsStored >= 32 ? uint.MaxValue : (1u << bitsStored) - 1;
        var signBit = 1u << (bitsStored - 1);
        var signed = image.PixelRepresentation == 1;
        for (var i = 0; i < count; i++)
        {
            // i walks the output (interleaved); s is where that sample sits in the source.
            var s = planar ? (i % spp) * pixels + i / spp : i;
            var at = s * unit;
            uint raw = unit switch
            {
                1 => frame[at],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(frame[at..]),
                3 => (uint)(frame[at] | frame[at + 1] << 8 | frame[at + 2] << 16),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(frame[at..]),
            };
            var v = clampUnsigned && !signed && shift == 0 && raw > mask ? mask : (raw >> shift) & mask;
            if (signed && (v & signBit) != 0) v |= ~mask;
            var o = i * outSize;
            switch (outSize)
            {
                case 1: destination[o] = (byte)v; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(destination[o..], (ushort)v); break;
                default: BinaryPrimitives.WriteUInt32LittleEndian(destination[o..], v); break;
            }
        }
    }

    /// <summary>1-bit data (PS3.5 §8.1.1, Annex D): bits packed little-endian within each byte; frames need not start on a byte boundary.</summary>
    public static void UnpackBits(ReadOnlySpan<byte> data, long firstBit, DicomImageDescription image, Span<byte> destination)
    {
        var count = (long)image.Rows * image.Columns * image.SamplesPerPixel;
        if ((firstBit + count + 7) / 8 > data.Length) throw new PixelDecodeException($"bit-packed pixel data holds {data.Length} bytes, {(firstBit + count + 7) / 8} needed");
        for (long i = 0; i < count; i++)
        {
            var bit = firstBit + i;
            destination[(int)i] = (byte)((data[(int)(bit >> 3)] >> (int)(bit & 7)) & 1);
        }
    }
}
