namespace Casebook.Extract.Audio;

/// <summary>Band-limited resampling (Kaiser-windowed sinc, 16 zero crossings) and channel mixing.</summary>
public static class Resampler
{
    const int ZeroCrossings = 16;
    const double KaiserBeta = 8.6;

    /// <summary>Resamples mono <paramref name="input"/> from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz.</summary>
    public static float[] Resample(ReadOnlySpan<float> input, int fromRate, int toRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(toRate, 1);
        if (fromRate == toRate) return input.ToArray();
        double ratio = (double)toRate / fromRate;
        // Low-pass at 95 % of the lower Nyquist frequency to keep aliasing out when downsampling.
        double cutoff = Math.Min(1.0, ratio) * 0.95;
        double halfWidth = ZeroCrossings / cutoff; // in input samples
        long outLength = (long)Math.Floor(input.Length * ratio);
        var output = new float[outLength];
        double i0 = Bessel0(KaiserBeta);
        // Tabulate the kernel finely and interpolate: the inner loop then does no transcendental math.
        const int TableRes = 512;
        int tableLen = (int)Math.Ceiling(halfWidth * TableRes) + 2;
        var table = new float[tableLen];
        for (int k = 0; k < tableLen; k++)
        {
            double x = (double)k / TableRes;
            if (x > halfWidth) { table[k] = 0; continue; }
            double t = x / halfWidth;
            double window = Bessel0(KaiserBeta * Math.Sqrt(Math.Max(0, 1 - t * t))) / i0;
            double sinc = x == 0 ? 1 : Math.Sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
            table[k] = (float)(cutoff * sinc * window);
        }
        for (long n = 0; n < outLength; n++)
        {
            double center = n / ratio;
            int first = (int)Math.Ceiling(center - halfWidth), last = (int)Math.Floor(center + halfWidth);
            if (first < 0) first = 0;
            if (last >= input.Length) last = input.Length - 1;
            double acc = 0;
            for (int k = first; k <= last; k++)
            {
                double pos = Math.Abs(k - center) * TableRes;
                int idx = (int)pos;
                if (idx + 1 >= tableLen) continue;
                double frac = pos - idx;
                acc += input[k] * (table[idx] + (table[idx + 1] - table[idx]) * frac);
            }
            output[n] = (float)acc;
        }
        return output;
    }

    /// <summary>Averages interleaved channels into one.</summary>
    public static float[] Downmix(ReadOnlySpan<float> interleaved, int channels)
    {
        if (channels <= 1) return interleaved.ToArray();
        var mono = new float[interleaved.Length / channels];
        for (int i = 0; i < mono.Length; i++)
        {
            float s = 0;
            for (int c = 0; c < channels; c++) s += interleaved[i * channels + c];
            mono[i] = s / channels;
        }
        return mono;
    }

    static double Bessel0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 50; k++) { term *= q / (k * k); sum += term; if (term < 1e-12 * sum) break; }
        return sum;
    }
}
