using System.Numerics;

namespace Casebook.Extract.Radiomics;

/// <summary>
/// Moran's I and Geary's C of the intensity-mask voxels with inverse-distance weights (IBSI 1 "morph_moran_i",
/// "morph_geary_c"). The double sums over voxel pairs are O(N²) when written out; because the weight depends only on
/// the offset between two voxels, every sum is a convolution with the kernel 1/‖Δ‖ and is computed exactly (to
/// rounding) with FFTs on the ROI's bounding box, zero-padded so that nothing wraps around. Beyond
/// <see cref="MaxFftCells"/> padded cells the sums are estimated from sampled voxel pairs.
/// </summary>
public static class SpatialAutocorrelation
{
    public static (double MoranI, double GearyC) Compute(float[] image, bool[] mask, int nx, int ny, int nz, double[] spacing)
    {
        // Bounding box of the mask.
        int x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
        long n = 0; double sum = 0;
        for (var z = 0; z < nz; z++)
        for (var y = 0; y < ny; y++)
        for (var x = 0; x < nx; x++)
        {
            var i = x + nx * (y + ny * z);
            if (!mask[i]) continue;
            n++; sum += image[i];
            x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
        }
        if (n < 2) return (double.NaN, double.NaN);
        var mean = sum / n;
        int bx = x1 - x0 + 1, by = y1 - y0 + 1, bz = z1 - z0 + 1;
        int px = Pow2(2 * bx - 1), py = Pow2(2 * by - 1), pz = Pow2(2 * bz - 1);
        var size = (long)px * py * pz;
        if (size > MaxFftCells) return Sampled(image, mask, nx, ny, nz, spacing);

        // Signal: f = (X − μ) inside (real part), m = 1 inside (imaginary part).
        var sig = new Complex[size];
        double ss = 0, sx2 = 0;
        for (var z = 0; z < bz; z++)
        for (var y = 0; y < by; y++)
        for (var x = 0; x < bx; x++)
        {
            var i = (x + x0) + nx * ((y + y0) + ny * (z + z0));
            if (!mask[i]) continue;
            var d = image[i] - mean;
            ss += d * d;
            sx2 += (double)image[i] * image[i];
            sig[x + (long)px * (y + (long)py * z)] = new Complex(d, 1);
        }
        // Kernel w(Δ) = 1/‖Δ‖ (mm), w(0) = 0, on the wrapped padded grid.
        var ker = new Complex[size];
        for (var z = 0; z < pz; z++)
        {
            var dz = z <= pz / 2 ? z : z - pz;
            if (Math.Abs(dz) >= bz) continue;
            for (var y = 0; y < py; y++)
            {
                var dy = y <= py / 2 ? y : y - py;
                if (Math.Abs(dy) >= by) continue;
                for (var x = 0; x < px; x++)
                {
                    var dx = x <= px / 2 ? x : x - px;
                    if (Math.Abs(dx) >= bx || (dx == 0 && dy == 0 && dz == 0)) continue;
                    double ex = dx * spacing[0], ey = dy * spacing[1], ez = dz * spacing[2];
                    ker[x + (long)px * (y + (long)py * z)] = new Complex(1 / Math.Sqrt(ex * ex + ey * ey + ez * ez), 0);
                }
            }
        }
        Fft3(sig, px, py, pz, false);
        Fft3(ker, px, py, pz, false);
        // The kernel is real and symmetric, so its transform is real and the real and imaginary parts of the
        // signal convolve independently: result = (w⊛f) + i (w⊛m).
        for (long i = 0; i < size; i++) sig[i] *= ker[i].Real;
        Fft3(sig, px, py, pz, true);

        double sumW = 0, sumWff = 0, sumX2Wm = 0, sumXWf = 0, sumXWm = 0;
        for (var z = 0; z < bz; z++)
        for (var y = 0; y < by; y++)
        for (var x = 0; x < bx; x++)
        {
            var i = (x + x0) + nx * ((y + y0) + ny * (z + z0));
            if (!mask[i]) continue;
            var c = sig[x + (long)px * (y + (long)py * z)];
            double wf = c.Real, wm = c.Imaginary, X = image[i], f = X - mean;
            sumW += wm;            // Σ_k1 Σ_k2 w
            sumWff += f * wf;      // Σ w f1 f2
            sumX2Wm += X * X * wm; // Σ w X1²
            sumXWf += X * wf;      // Σ w X1 f2
            sumXWm += X * wm;      // Σ w X1
        }
        var moran = n / sumW * sumWff / ss;
        // Σ w (X1 − X2)² = 2 Σ w X1² − 2 Σ w X1 X2, with Σ w X1 X2 = Σ w X1 (f2 + μ).
        var cross = sumXWf + mean * sumXWm;
        var geary = (n - 1) / (2 * sumW) * (2 * sumX2Wm - 2 * cross) / ss;
        return (moran, geary);
    }

    /// <summary>Largest padded FFT grid (cells) computed exactly: 2^24 cells are 256 MB per complex array.</summary>
    public const long MaxFftCells = 1L << 24;

    /// <summary>Voxel pairs drawn for the approximation of very large ROIs.</summary>
    public const int SampledPairs = 4_000_000;

    /// <summary>
    /// For ROIs too large for the exact FFT (e.g. a whole body outline) the manual allows approximation by subsampling:
    /// the weighted pair sums are estimated from uniformly drawn voxel pairs (fixed seed, so results repeat), as ratios
    /// Σw·f₁f₂ / Σw and Σw·(X₁−X₂)² / Σw; the sum of squares is exact.
    /// </summary>
    public static (double MoranI, double GearyC) Sampled(float[] image, bool[] mask, int nx, int ny, int nz, double[] spacing)
    {
        long n = 0; double sum = 0;
        for (var i = 0; i < image.Length; i++) if (mask[i]) { n++; sum += image[i]; }
        if (n < 2) return (double.NaN, double.NaN);
        var mean = sum / n;
        var idx = new int[n];
        var k = 0;
        double ss = 0;
        for (var i = 0; i < image.Length; i++)
            if (mask[i]) { idx[k++] = i; ss += (image[i] - mean) * (image[i] - mean); }
        var rng = new Random(20240601);
        double sw = 0, swff = 0, swdd = 0;
        for (var t = 0; t < SampledPairs; t++)
        {
            int a = idx[rng.NextInt64(n)], b = idx[rng.NextInt64(n)];
            if (a == b) continue;
            double dx = (a % nx - b % nx) * spacing[0], dy = (a / nx % ny - b / nx % ny) * spacing[1], dz = (a / (nx * ny) - b / (nx * ny)) * spacing[2];
            var w = 1 / Math.Sqrt(dx * dx + dy * dy + dz * dz);
            double xa = image[a], xb = image[b];
            sw += w; swff += w * (xa - mean) * (xb - mean); swdd += w * (xa - xb) * (xa - xb);
        }
        return (n * (swff / sw) / ss, (n - 1) / 2.0 * (swdd / sw) / ss);
    }

    /// <summary>The same sums written out pair by pair; for tests and tiny ROIs.</summary>
    public static (double MoranI, double GearyC) Direct(float[] image, bool[] mask, int nx, int ny, int nz, double[] spacing)
    {
        var pts = new List<(double x, double y, double z, double v)>();
        for (var z = 0; z < nz; z++)
        for (var y = 0; y < ny; y++)
        for (var x = 0; x < nx; x++)
            if (mask[x + nx * (y + ny * z)]) pts.Add((x * spacing[0], y * spacing[1], z * spacing[2], image[x + nx * (y + ny * z)]));
        var mean = pts.Average(p => p.v);
        double sw = 0, num = 0, gnum = 0, den = pts.Sum(p => (p.v - mean) * (p.v - mean));
        for (var a = 0; a < pts.Count; a++)
        for (var b = 0; b < pts.Count; b++)
        {
            if (a == b) continue;
            var w = 1 / Math.Sqrt(Math.Pow(pts[a].x - pts[b].x, 2) + Math.Pow(pts[a].y - pts[b].y, 2) + Math.Pow(pts[a].z - pts[b].z, 2));
            sw += w;
            num += w * (pts[a].v - mean) * (pts[b].v - mean);
            gnum += w * Math.Pow(pts[a].v - pts[b].v, 2);
        }
        return (pts.Count / sw * num / den, (pts.Count - 1) / (2 * sw) * gnum / den);
    }

    static int Pow2(int v) { var p = 1; while (p < v) p <<= 1; return p; }

    static void Fft3(Complex[] a, int px, int py, int pz, bool inverse)
    {
        // Along x (contiguous), then y and z through a gathered line buffer.
        Parallel.For(0, py * pz, () => new Complex[Math.Max(px, Math.Max(py, pz))], (row, _, buf) =>
        {
            Fft1(a.AsSpan(row * px, px), inverse);
            return buf;
        }, _ => { });
        Parallel.For(0, px * pz, () => new Complex[py], (line, _, buf) =>
        {
            int x = line % px, z = line / px;
            long b = x + (long)px * py * z;
            for (var y = 0; y < py; y++) buf[y] = a[b + (long)px * y];
            Fft1(buf, inverse);
            for (var y = 0; y < py; y++) a[b + (long)px * y] = buf[y];
            return buf;
        }, _ => { });
        Parallel.For(0, px * py, () => new Complex[pz], (line, _, buf) =>
        {
            long b = line;
            long stride = (long)px * py;
            for (var z = 0; z < pz; z++) buf[z] = a[b + stride * z];
            Fft1(buf, inverse);
            for (var z = 0; z < pz; z++) a[b + stride * z] = buf[z];
            return buf;
        }, _ => { });
    }

    /// <summary>In-place iterative radix-2 FFT; the inverse is scaled by 1/n.</summary>
    static void Fft1(Span<Complex> a, bool inverse)
    {
        var n = a.Length;
        if (n <= 1) return;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) (a[i], a[j]) = (a[j], a[i]);
        }
        for (var len = 2; len <= n; len <<= 1)
        {
            var ang = 2 * Math.PI / len * (inverse ? 1 : -1);
            var wl = new Complex(Math.Cos(ang), Math.Sin(ang));
            var half = len / 2;
            for (var i = 0; i < n; i += len)
            {
                var w = Complex.One;
                for (var k = 0; k < half; k++)
                {
                    var u = a[i + k];
                    var v = a[i + k + half] * w;
                    a[i + k] = u + v;
                    a[i + k + half] = u - v;
                    w *= wl;
                }
            }
        }
        if (inverse) for (var i = 0; i < n; i++) a[i] /= n;
    }
}
