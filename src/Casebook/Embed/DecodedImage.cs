using SkiaSharp;

namespace Casebook.Embed;

/// <summary>Decoded 8-bit pixels, row-major and interleaved: 1 channel (grey) or 3 (R,G,B).</summary>
public sealed class DecodedImage
{
    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public byte[] Pixels { get; }
    public bool IsGrey => Channels == 1;

    public DecodedImage(int width, int height, int channels, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size must be positive, got {width}x{height}");
        if (channels is not (1 or 3)) throw new ArgumentException($"channels must be 1 (grey) or 3 (RGB), got {channels}");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"pixel buffer holds {pixels.Length} bytes, expected {width}x{height}x{channels} = {(long)width * height * channels}");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public static DecodedImage Grey(int width, int height, byte[] pixels) => new(width, height, 1, pixels);
    public static DecodedImage Rgb(int width, int height, byte[] pixels) => new(width, height, 3, pixels);
}

/// <summary>PNG/JPEG (and whatever else Skia reads) to <see cref="DecodedImage"/>; colour images whose channels are all equal become grey.</summary>
public static class ImageDecoder
{
    /// <summary>Decodes encoded image bytes; <paramref name="index"/> names the input in error messages.</summary>
    public static DecodedImage Decode(byte[]? encoded, int index = 0)
    {
        if (encoded == null) throw new InvalidDataException($"image {index}: bytes are null");
        if (encoded.Length == 0) throw new InvalidDataException($"image {index}: bytes are empty");
        using var stream = new SKMemoryStream(encoded);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec == null)
            throw new InvalidDataException($"image {index}: cannot decode {encoded.Length} bytes ({Describe(result)}; starts with {Convert.ToHexString(encoded.AsSpan(0, Math.Min(8, encoded.Length)))})");
        var info = codec.Info;
        var grey = info.ColorType == SKColorType.Gray8;
        var target = new SKImageInfo(info.Width, info.Height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, grey ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(target);
        var decodeResult = codec.GetPixels(target, bitmap.GetPixels());
        if (decodeResult is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new InvalidDataException($"image {index}: decoding {info.Width}x{info.Height} pixels failed ({Describe(decodeResult)})");
        if (decodeResult == SKCodecResult.IncompleteInput)
            throw new InvalidDataException($"image {index}: the encoded data is truncated ({encoded.Length} bytes for {info.Width}x{info.Height})");
        var pixels = bitmap.GetPixelSpan();
        if (grey)
        {
            var g = new byte[info.Width * info.Height];
            for (var y = 0; y < info.Height; y++) pixels.Slice(y * bitmap.RowBytes, info.Width).CopyTo(g.AsSpan(y * info.Width));
            return DecodedImage.Grey(info.Width, info.Height, g);
        }
        var rgb = new byte[info.Width * info.Height * 3];
        var allEqual = true;
        for (var y = 0; y < info.Height; y++)
        {
            var row = pixels.Slice(y * bitmap.RowBytes, info.Width * 4);
            for (var x = 0; x < info.Width; x++)
            {
                byte r = row[4 * x], gg = row[4 * x + 1], b = row[4 * x + 2];
                var o = (y * info.Width + x) * 3;
                rgb[o] = r; rgb[o + 1] = gg; rgb[o + 2] = b;
                allEqual &= r == gg && gg == b;
            }
        }
        if (!allEqual) return DecodedImage.Rgb(info.Width, info.Height, rgb);
        var grey8 = new byte[info.Width * info.Height];
        for (var i = 0; i < grey8.Length; i++) grey8[i] = rgb[3 * i];
        return DecodedImage.Grey(info.Width, info.Height, grey8); // grey saved as RGB (common for exported X-rays)
    }

    static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.Unimplemented => "unsupported format",
        SKCodecResult.InvalidInput => "invalid or unrecognised image data",
        SKCodecResult.IncompleteInput => "truncated image data",
        SKCodecResult.InvalidConversion => "unsupported pixel conversion",
        _ => result.ToString(),
    };
}
