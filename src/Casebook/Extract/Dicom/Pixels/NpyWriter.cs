using System.Text;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// NumPy .npy format 1.0 (numpy.lib.format): magic "\x93NUMPY", version 1.0, a little-endian uint16 header length,
/// a Python-literal dict padded with spaces to a 64-byte boundary and ending in '\n', then the C-order data.
/// </summary>
public static class NpyWriter
{
    public static string Descr(PixelDataType t) => t switch
    {
        PixelDataType.UInt8 => "|u1",
        PixelDataType.Int8 => "|i1",
        PixelDataType.UInt16 => "<u2",
        PixelDataType.Int16 => "<i2",
        PixelDataType.UInt32 => "<u4",
        _ => "<i4",
    };

    /// <summary>Writes the pixels shaped [frames, rows, columns, samples] in the stored dtype.</summary>
    public static void Write(Stream output, PixelData pixels) =>
        Write(output, Descr(pixels.DataType), [pixels.Frames, pixels.Rows, pixels.Columns, pixels.SamplesPerPixel], pixels.Buffer);

    public static void Write(string path, PixelData pixels)
    {
        using var f = File.Create(path);
        Write(f, pixels);
    }

    public static void Write(Stream output, string descr, long[] shape, ReadOnlySpan<byte> data)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        var unpadded = 10 + dict.Length + 1;
        var total = (unpadded + 63) / 64 * 64;
        var header = dict + new string(' ', total - unpadded) + "\n";
        if (header.Length > ushort.MaxValue) throw new ArgumentException("npy header too long for format 1.0");
        Span<byte> prefix = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, (byte)(header.Length >> 8)];
        output.Write(prefix);
        output.Write(Encoding.ASCII.GetBytes(header));
        output.Write(data);
    }
}
