using System.Buffers.Binary;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>The stored element type of decoded pixels (the NumPy dtype of the CLI contract).</summary>
public enum PixelDataType { UInt8, Int8, UInt16, Int16, UInt32, Int32 }

/// <summary>
/// Stored pixel values after decompression and before any LUT: frames × rows × columns × samples, samples interleaved,
/// little endian, in the stored type chosen from Bits Allocated and Pixel Representation. Bits outside Bits Stored /
/// High Bit are removed and signed values sign-extended (PS3.5 §8.1.1, PS3.3 C.7.6.3.1.x).
/// </summary>
public sealed class PixelData
{
    public PixelData(int frames, int rows, int columns, int samplesPerPixel, PixelDataType dataType, int bitsStored,
        string photometricInterpretation, byte[] buffer)
    {
        Frames = frames; Rows = rows; Columns = columns; SamplesPerPixel = samplesPerPixel; DataType = dataType;
        BitsStored = bitsStored; PhotometricInterpretation = photometricInterpretation; Buffer = buffer;
        if (buffer.LongLength != FrameLength * frames) throw new ArgumentException("buffer length does not match the shape", nameof(buffer));
    }

    public int Frames { get; }
    public int Rows { get; }
    public int Columns { get; }
    public int SamplesPerPixel { get; }
    public PixelDataType DataType { get; }
    public int BitsStored { get; }
    /// <summary>Photometric interpretation of these values: the dataset's, or "RGB" where the codec converted colour (JPEG YCbCr, JPEG 2000 MCT).</summary>
    public string PhotometricInterpretation { get; }
    /// <summary>Little-endian values in [frame, row, column, sample] order.</summary>
    public byte[] Buffer { get; }

    public int BytesPerSample => SizeOf(DataType);
    public bool IsSigned => DataType is PixelDataType.Int8 or PixelDataType.Int16 or PixelDataType.Int32;
    public long FrameLength => (long)Rows * Columns * SamplesPerPixel * BytesPerSample;
    public ReadOnlySpan<byte> Frame(int frame) => Buffer.AsSpan(checked((int)(frame * FrameLength)), (int)FrameLength);

    /// <summary>One value (slow path, for tests and spot checks).</summary>
    public long this[int frame, int row, int column, int sample]
    {
        get
        {
            var index = (((long)frame * Rows + row) * Columns + column) * SamplesPerPixel + sample;
            return Read(Buffer.AsSpan(checked((int)(index * BytesPerSample))), DataType);
        }
    }

    /// <summary>All values of one frame as 32-bit integers (interleaved samples).</summary>
    public int[] FrameValues(int frame)
    {
        var src = Frame(frame);
        var n = Rows * Columns * SamplesPerPixel;
        var r = new int[n];
        switch (DataType)
        {
            case PixelDataType.UInt8: for (var i = 0; i < n; i++) r[i] = src[i]; break;
            case PixelDataType.Int8: for (var i = 0; i < n; i++) r[i] = (sbyte)src[i]; break;
            case PixelDataType.UInt16: for (var i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]); break;
            case PixelDataType.Int16: for (var i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]); break;
            case PixelDataType.UInt32: for (var i = 0; i < n; i++) r[i] = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]), int.MaxValue); break;
            default: for (var i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]); break;
        }
        return r;
    }

    public static int SizeOf(PixelDataType t) => t switch
    {
        PixelDataType.UInt8 or PixelDataType.Int8 => 1,
        PixelDataType.UInt16 or PixelDataType.Int16 => 2,
        _ => 4,
    };

    /// <summary>The stored type for Bits Allocated and Pixel Representation (1-bit data unpacks to uint8 0/1).</summary>
    public static PixelDataType TypeFor(int bitsAllocated, int pixelRepresentation)
    {
        var signed = pixelRepresentation == 1;
        return bitsAllocated switch
        {
            <= 8 => signed ? PixelDataType.Int8 : PixelDataType.UInt8,
            <= 16 => signed ? PixelDataType.Int16 : PixelDataType.UInt16,
            _ => signed ? PixelDataType.Int32 : PixelDataType.UInt32,
        };
    }

    internal static long Read(ReadOnlySpan<byte> b, PixelDataType t) => t switch
    {
        PixelDataType.UInt8 => b[0],
        PixelDataType.Int8 => (sbyte)b[0],
        PixelDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        PixelDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
        PixelDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        _ => BinaryPrimitives.ReadInt32LittleEndian(b),
    };
}
