using System.Buffers.Binary;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>
/// The managed JPEG decoder behind the DICOM JPEG syntaxes: baseline (8-bit), extended (12-bit), lossless process 14
/// and SV1. Colour: 3-component DCT images are converted from YCbCr to RGB when a JFIF marker or an Adobe APP14
/// transform flag says so; without either, the dataset decides (YBR_* → convert, RGB → as coded; PS3.5 §8.2.1), not
/// libjpeg's component-id guess, which mis-colours RGB-coded streams (pydicom SC_rgb_jpeg, SC_jpeg_no_color_transform).
/// Lossless images are returned as coded.
/// </summary>
public sealed class JpegFrameDecoder : IPixelFrameDecoder
{
    public string Name => "managed";
    public IReadOnlyCollection<string> TransferSyntaxes { get; } =
        [TransferSyntaxUids.JpegBaseline, TransferSyntaxUids.JpegExtended, TransferSyntaxUids.JpegLossless, TransferSyntaxUids.JpegLosslessSV1];

    public string DecodeFrame(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination)
    {
        var pi = image.PhotometricInterpretation;
        var jpeg = JpegDecoder.Decode(encoded, colorTransform: pi.StartsWith("YBR", StringComparison.Ordinal), maxPixels: (long)image.Rows * image.Columns * image.SamplesPerPixel);
        FrameWriter.Write(jpeg.Planes, jpeg.Width, jpeg.Height, image, destination);
        return jpeg.ConvertedToRgb ? "RGB" : pi;
    }
}

/// <summary>Writes decoded component planes into a native frame (little endian, Bits Allocated units, dataset planar configuration).</summary>
internal static class FrameWriter
{
    public static void Write(int[][] planes, int width, int height, DicomImageDescription image, Span<byte> destination)
    {
        if (width != image.Columns || height != image.Rows)
            throw new PixelDecodeException($"codestream is {width}×{height}, the dataset says {image.Columns}×{image.Rows} (Columns × Rows)");
        if (planes.Length != image.SamplesPerPixel)
            throw new PixelDecodeException($"codestream has {planes.Length} components, Samples per Pixel (0028,0002) is {image.SamplesPerPixel}");
        var unit = image.BitsAllocated / 8;
        if (unit < 1) throw new PixelDecodeException($"Bits Allocated (0028,0100) {image.BitsAllocated} is not a whole number of bytes; codec output needs 8, 16, 24 or 32");
        var pixels = width * height;
        var spp = planes.Length;
        var planar = spp > 1 && image.PlanarConfiguration == 1;
        for (var s = 0; s < spp; s++)
        {
            var p = planes[s];
            for (var i = 0; i < pixels; i++)
            {
                var at = (planar ? s * pixels + i : i * spp + s) * unit;
                var v = p[i];
                switch (unit)
                {
                    case 1: destination[at] = (byte)v; break;
                    case 2: BinaryPrimitives.WriteInt16LittleEndian(destination[at..], (short)v); break;
                    case 3: destination[at] = (byte)v; destination[at + 1] = (byte)(v >> 8); destination[at + 2] = (byte)(v >> 16); break;
                    default: BinaryPrimitives.WriteInt32LittleEndian(destination[at..], v); break;
                }
            }
        }
    }
}
