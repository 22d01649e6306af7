namespace Casebook.Embed;

/// <summary>Contrast normalisation applied to grey images before the network (grey medical images vary widely in windowing).</summary>
public enum GreyNormalisation
{
    None,
    /// <summary>Linear stretch mapping the low/high percentiles of the image's intensities to 0 and 255.</summary>
    PercentileStretch,
    /// <summary>Global histogram equalisation (maps intensities through their cumulative distribution).</summary>
    HistogramEqualisation,
}

/// <summary>Channel order of the network's input planes.</summary>
public enum ChannelOrder { Rgb, Bgr }

/// <summary>
/// What an image network expects: input size, channel order and value normalisation
/// <c>(pixel * PixelScale - Mean[c]) / Std[c]</c>, or subtraction of a per-position <see cref="MeanImage"/> (CNTK models).
/// </summary>
public sealed record ImageInputSpec
{
    public int Width { get; init; } = 224;
    public int Height { get; init; } = 224;
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;
    /// <summary>Multiplier from 0..255 pixel values to the model's range (1/255 for torchvision-style models).</summary>
    public float PixelScale { get; init; } = 1f / 255f;
    /// <summary>Per-channel mean in model order (after scaling); ImageNet by default.</summary>
    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];
    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];
    /// <summary>Optional per-position mean (3×Height×Width, model channel order) subtracted instead of <see cref="Mean"/>.</summary>
    public float[]? MeanImage { get; init; }

    public void Validate(string model)
    {
        if (Width <= 0 || Height <= 0) throw new ArgumentException($"{model}: input size must be positive, got {Width}x{Height}");
        if (Mean.Length != 3 || Std.Length != 3) throw new ArgumentException($"{model}: mean and std need 3 values each, got {Mean.Length} and {Std.Length}");
        if (Std.Any(s => !(s > 0))) throw new ArgumentException($"{model}: std values must be positive");
        if (MeanImage != null && MeanImage.Length != 3 * Width * Height)
            throw new ArgumentException($"{model}: mean image holds {MeanImage.Length} values, expected 3x{Height}x{Width}");
    }
}

/// <summary>Turns decoded pixels into the CHW float tensor a network expects.</summary>
public static class ImagePreprocessor
{
    static DecodedImage AsGreyIfNeutral(DecodedImage image)
    {
        if (image.Channels != 3) return image;
        var p = image.Pixels;
        for (var i = 0; i + 2 < p.Length; i += 3)
            if (p[i] != p[i + 1] || p[i] != p[i + 2]) return image;
        var grey = new byte[p.Length / 3];
        for (var i = 0; i < grey.Length; i++) grey[i] = p[3 * i];
        return DecodedImage.Grey(image.Width, image.Height, grey);
    }

    /// <summary>Writes 3×Height×Width floats for <paramref name="image"/> into <paramref name="destination"/>.</summary>
    public static void ToTensor(DecodedImage image, ImageInputSpec spec, GreyNormalisation grey, double lowPercentile, double highPercentile, Span<float> destination)
    {
        var plane = spec.Width * spec.Height;
        if (destination.Length < 3 * plane) throw new ArgumentException("destination too small");
        image = AsGreyIfNeutral(image); // an RGB image with equal channels is grey (as the decoder treats it)
        var source = image.Pixels;
        if (image.IsGrey && grey != GreyNormalisation.None)
            source = grey == GreyNormalisation.PercentileStretch
                ? PercentileStretch(image.Pixels, lowPercentile, highPercentile)
                : Equalise(image.Pixels);

        Span<int> order = spec.ChannelOrder == ChannelOrder.Rgb ? [0, 1, 2] : [2, 1, 0];
        var resized = new float[plane];
        for (var c = 0; c < 3; c++)
        {
            var sourceChannel = image.IsGrey ? 0 : order[c];
            if (c == 0 || !image.IsGrey)
                Resize(source, image.Width, image.Height, image.Channels, sourceChannel, resized, spec.Width, spec.Height);
            var target = destination.Slice(c * plane, plane);
            if (spec.MeanImage != null)
            {
                var mean = spec.MeanImage.AsSpan(c * plane, plane);
                for (var i = 0; i < plane; i++) target[i] = resized[i] * spec.PixelScale - mean[i];
            }
            else
            {
                float m = spec.Mean[c], s = spec.Std[c], k = spec.PixelScale;
                for (var i = 0; i < plane; i++) target[i] = (resized[i] * k - m) / s;
            }
        }
    }

    /// <summary>Linear map of the [low, high] percentile intensities to [0, 255], clamped.</summary>
    public static byte[] PercentileStretch(byte[] pixels, double lowPercentile = 1, double highPercentile = 99)
    {
        var histogram = Histogram(pixels);
        var lo = Percentile(histogram, pixels.Length, lowPercentile);
        var hi = Percentile(histogram, pixels.Length, highPercentile);
        if (hi <= lo) return (byte[])pixels.Clone(); // flat image: nothing to stretch
        var lut = new byte[256];
        for (var v = 0; v < 256; v++) lut[v] = (byte)Math.Clamp(Math.Round((v - lo) * 255.0 / (hi - lo)), 0, 255);
        return Map(pixels, lut);
    }

    /// <summary>Histogram equalisation: intensity → (CDF(v) − CDF(min)) / (N − CDF(min)) · 255.</summary>
    public static byte[] Equalise(byte[] pixels)
    {
        var histogram = Histogram(pixels);
        var cdf = new long[256];
        long run = 0;
        for (var v = 0; v < 256; v++) { run += histogram[v]; cdf[v] = run; }
        var cdfMin = cdf.First(c => c > 0);
        if (cdfMin == pixels.Length) return (byte[])pixels.Clone();
        var lut = new byte[256];
        for (var v = 0; v < 256; v++) lut[v] = (byte)Math.Clamp(Math.Round((cdf[v] - cdfMin) * 255.0 / (pixels.Length - cdfMin)), 0, 255);
        return Map(pixels, lut);
    }

    static long[] Histogram(byte[] pixels)
    {
        var h = new long[256];
        foreach (var p in pixels) h[p]++;
        return h;
    }

    static int Percentile(long[] histogram, long count, double percentile)
    {
        var target = Math.Clamp(percentile, 0, 100) / 100.0 * (count - 1);
        long seen = 0;
        for (var v = 0; v < 256; v++)
        {
            seen += histogram[v];
            if (seen > target) return v;
        }
        return 255;
    }

    static byte[] Map(byte[] pixels, byte[] lut)
    {
        var result = new byte[pixels.Length];
        for (var i = 0; i < pixels.Length; i++) result[i] = lut[pixels[i]];
        return result;
    }

    /// <summary>
    /// Separable resampling with a triangle (bilinear) kernel widened by the scale factor when shrinking,
    /// as PIL's antialiased bilinear resize does: enlarging interpolates, shrinking averages without aliasing.
    /// </summary>
    static void Resize(byte[] src, int sw, int sh, int channels, int channel, float[] dst, int dw, int dh)
    {
        var (xIdx, xW, xN) = Weights(sw, dw);
        var (yIdx, yW, yN) = Weights(sh, dh);
        var temp = new float[sh * dw]; // horizontal pass
        for (var y = 0; y < sh; y++)
        {
            var rowBase = y * sw;
            for (var x = 0; x < dw; x++)
            {
                float acc = 0;
                for (var k = 0; k < xN; k++)
                {
                    var w = xW[x * xN + k];
                    if (w == 0) continue;
                    acc += w * src[(rowBase + xIdx[x * xN + k]) * channels + channel];
                }
                temp[y * dw + x] = acc;
            }
        }
        for (var y = 0; y < dh; y++) // vertical pass
        for (var x = 0; x < dw; x++)
        {
            float acc = 0;
            for (var k = 0; k < yN; k++)
            {
                var w = yW[y * yN + k];
                if (w == 0) continue;
                acc += w * temp[yIdx[y * yN + k] * dw + x];
            }
            dst[y * dw + x] = acc;
        }
    }

    static (int[] index, float[] weight, int taps) Weights(int inSize, int outSize)
    {
        var scale = (double)inSize / outSize;
        var support = Math.Max(1.0, scale); // triangle half-width in source pixels
        var taps = (int)Math.Ceiling(support) * 2 + 1;
        var index = new int[outSize * taps];
        var weight = new float[outSize * taps];
        for (var o = 0; o < outSize; o++)
        {
            var centre = (o + 0.5) * scale - 0.5;
            var first = (int)Math.Floor(centre - support) + 1;
            double total = 0;
            for (var k = 0; k < taps; k++)
            {
                var s = first + k;
                var w = Math.Max(0, 1 - Math.Abs(s - centre) / support);
                index[o * taps + k] = Math.Clamp(s, 0, inSize - 1);
                weight[o * taps + k] = (float)w;
                total += w;
            }
            for (var k = 0; k < taps; k++) weight[o * taps + k] = (float)(weight[o * taps + k] / total);
        }
        return (index, weight, taps);
    }
}
