using System.Buffers.Binary;

namespace Casebook.Embed;

/// <summary>
/// PCA whitening fitted without labels on a gallery of vectors: y = normalise(P (x − μ)) where the rows of P are the
/// covariance eigenvectors scaled by (λ + ε)^(−power/2). It spreads out the few dominant directions that generic
/// ImageNet features share across grey medical images, which lifts nearest-neighbour retrieval.
/// Fit once, then apply to both gallery and query vectors. Immutable after fitting; thread-safe.
/// </summary>
public sealed class VectorWhitening
{
    const uint Magic = 0x48574243; // "CBWH"
    const int Version = 1;

    readonly float[] _mean;
    readonly float[] _projection; // OutputDimension rows × InputDimension columns

    public int InputDimension { get; }
    public int OutputDimension { get; }

    VectorWhitening(int inputDimension, int outputDimension, float[] mean, float[] projection)
    {
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        _mean = mean;
        _projection = projection;
    }

    /// <param name="vectors">The gallery (at least 2 vectors of equal length).</param>
    /// <param name="components">Dimensions kept (largest eigenvalues first); null keeps all.</param>
    /// <param name="shrinkage">ε as a fraction of the mean eigenvalue: keeps near-zero-variance directions from exploding.</param>
    /// <param name="power">1 = full whitening, 0.5 = square-root whitening, 0 = plain PCA rotation.</param>
    public static VectorWhitening Fit(IReadOnlyList<float[]> vectors, int? components = null, double shrinkage = 0.1, double power = 1.0)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count < 2) throw new ArgumentException($"whitening needs at least 2 vectors, got {vectors.Count}");
        var d = vectors[0].Length;
        for (var i = 0; i < vectors.Count; i++)
            if (vectors[i].Length != d) throw new ArgumentException($"vector {i} has {vectors[i].Length} dimensions, vector 0 has {d}");
        var k = components ?? d;
        if (k < 1 || k > d) throw new ArgumentException($"components must be in [1, {d}], got {k}");
        if (shrinkage < 0) throw new ArgumentException("shrinkage must be non-negative");

        var mean = new double[d];
        foreach (var v in vectors) for (var j = 0; j < d; j++) mean[j] += v[j];
        for (var j = 0; j < d; j++) mean[j] /= vectors.Count;

        var cov = new double[d, d];
        var centred = new double[d];
        foreach (var v in vectors)
        {
            for (var j = 0; j < d; j++) centred[j] = v[j] - mean[j];
            for (var a = 0; a < d; a++)
            {
                var ca = centred[a];
                if (ca == 0) continue;
                for (var b = a; b < d; b++) cov[a, b] += ca * centred[b];
            }
        }
        for (var a = 0; a < d; a++)
        for (var b = a; b < d; b++)
        {
            cov[a, b] /= vectors.Count - 1;
            cov[b, a] = cov[a, b];
        }

        var (values, eigenvectors) = SymmetricEigen.Decompose(cov);
        var order = Enumerable.Range(0, d).OrderByDescending(i => values[i]).ToArray();
        var epsilon = shrinkage * Math.Max(values.Average(), 1e-12);
        var projection = new float[k * d];
        for (var r = 0; r < k; r++)
        {
            var col = order[r];
            var scale = Math.Pow(Math.Max(values[col], 0) + epsilon, -power / 2);
            for (var j = 0; j < d; j++) projection[r * d + j] = (float)(eigenvectors[j, col] * scale);
        }
        return new VectorWhitening(d, k, mean.Select(m => (float)m).ToArray(), projection);
    }

    /// <summary>Whitens <paramref name="input"/> into <paramref name="output"/> (length <see cref="OutputDimension"/>) and L2-normalises it.</summary>
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != InputDimension) throw new ArgumentException($"vector has {input.Length} dimensions, the whitening was fitted on {InputDimension}");
        if (output.Length != OutputDimension) throw new ArgumentException($"output needs {OutputDimension} values, got {output.Length}");
        Span<float> centred = InputDimension <= 4096 ? stackalloc float[InputDimension] : new float[InputDimension];
        System.Numerics.Tensors.TensorPrimitives.Subtract(input, _mean, centred);
        for (var r = 0; r < OutputDimension; r++)
            output[r] = System.Numerics.Tensors.TensorPrimitives.Dot(_projection.AsSpan(r * InputDimension, InputDimension), centred);
        VectorMath.NormalizeInPlace(output);
    }

    public float[] Apply(ReadOnlySpan<float> input)
    {
        var output = new float[OutputDimension];
        Apply(input, output);
        return output;
    }

    public float[][] ApplyAll(IReadOnlyList<float[]> vectors)
    {
        var result = new float[vectors.Count][];
        for (var i = 0; i < result.Length; i++) result[i] = Apply(vectors[i]);
        return result;
    }

    /// <summary>Little-endian: magic "CBWH", version, input and output dimension, mean, projection.</summary>
    public byte[] Save()
    {
        var bytes = new byte[16 + 4 * (_mean.Length + _projection.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), InputDimension);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), OutputDimension);
        var offset = 16;
        foreach (var f in _mean.Concat(_projection)) { BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset), f); offset += 4; }
        return bytes;
    }

    public static VectorWhitening Load(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
            throw new InvalidDataException("not a Casebook whitening blob (bad magic)");
        var version = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (version != Version) throw new InvalidDataException($"whitening blob version {version} is not supported (expected {Version})");
        var input = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var output = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        if (input <= 0 || output <= 0 || output > input || bytes.Length != 16 + 4L * (input + (long)output * input))
            throw new InvalidDataException($"whitening blob is corrupt: {bytes.Length} bytes for dimensions {input}->{output}");
        var values = new float[input + output * input];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(16 + 4 * i)..]);
        return new VectorWhitening(input, output, values[..input], values[input..]);
    }
}

/// <summary>
/// Eigen-decomposition of a symmetric matrix: Householder reduction to tridiagonal form, then the implicit QL
/// algorithm (the classic tred2/tql2 pair, as in EISPACK and JAMA). O(n³) once, not per sweep.
/// </summary>
public static class SymmetricEigen
{
    /// <summary>Returns eigenvalues (ascending) and eigenvectors as columns. The input is copied.</summary>
    public static (double[] values, double[,] vectors) Decompose(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        var v = new double[n][];
        for (var i = 0; i < n; i++)
        {
            v[i] = new double[n];
            for (var j = 0; j < n; j++) v[i][j] = matrix[i, j];
        }
        var d = new double[n];
        var e = new double[n];
        Tridiagonalise(n, v, d, e);
        DiagonaliseQl(n, v, d, e);
        var vectors = new double[n, n];
        for (var i = 0; i < n; i++)
        for (var j = 0; j < n; j++) vectors[i, j] = v[i][j];
        return (d, vectors);
    }

    static void Tridiagonalise(int n, double[][] V, double[] d, double[] e)
    {
        for (var j = 0; j < n; j++) d[j] = V[n - 1][j];
        for (var i = n - 1; i > 0; i--)
        {
            double scale = 0, h = 0;
            for (var k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (var j = 0; j < i; j++) { d[j] = V[i - 1][j]; V[i][j] = 0; V[j][i] = 0; }
            }
            else
            {
                for (var k = 0; k < i; k++) { d[k] /= scale; h += d[k] * d[k]; }
                var f = d[i - 1];
                var g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (var j = 0; j < i; j++) e[j] = 0;
                for (var j = 0; j < i; j++)
                {
                    f = d[j];
                    V[j][i] = f;
                    g = e[j] + V[j][j] * f;
                    for (var k = j + 1; k <= i - 1; k++) { g += V[k][j] * d[k]; e[k] += V[k][j] * f; }
                    e[j] = g;
                }
                f = 0;
                for (var j = 0; j < i; j++) { e[j] /= h; f += e[j] * d[j]; }
                var hh = f / (h + h);
                for (var j = 0; j < i; j++) e[j] -= hh * d[j];
                for (var j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    for (var k = j; k <= i - 1; k++) V[k][j] -= f * e[k] + g * d[k];
                    d[j] = V[i - 1][j];
                    V[i][j] = 0;
                }
            }
            d[i] = h;
        }
        for (var i = 0; i < n - 1; i++) // accumulate transformations
        {
            V[n - 1][i] = V[i][i];
            V[i][i] = 1;
            var h = d[i + 1];
            if (h != 0)
            {
                for (var k = 0; k <= i; k++) d[k] = V[k][i + 1] / h;
                for (var j = 0; j <= i; j++)
                {
                    double g = 0;
                    for (var k = 0; k <= i; k++) g += V[k][i + 1] * V[k][j];
                    for (var k = 0; k <= i; k++) V[k][j] -= g * d[k];
                }
            }
            for (var k = 0; k <= i; k++) V[k][i + 1] = 0;
        }
        for (var j = 0; j < n; j++) { d[j] = V[n - 1][j]; V[n - 1][j] = 0; }
        V[n - 1][n - 1] = 1;
        e[0] = 0;
    }

    static void DiagonaliseQl(int n, double[][] V, double[] d, double[] e)
    {
        for (var i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0;
        var eps = Math.Pow(2.0, -52.0);
        for (var l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            var m = l;
            while (m < n && Math.Abs(e[m]) > eps * tst1) m++;
            if (m == n) m = n - 1;
            if (m > l)
            {
                var iterations = 0;
                do
                {
                    if (++iterations > 300) throw new InvalidOperationException("eigen-decomposition did not converge");
                    var g = d[l];
                    var p = (d[l + 1] - g) / (2 * e[l]);
                    var r = Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    var dl1 = d[l + 1];
                    var h = g - d[l];
                    for (var i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    p = d[m];
                    double c = 1, c2 = c, c3 = c, el1 = e[l + 1], s = 0, s2 = 0;
                    for (var i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        for (var k = 0; k < n; k++)
                        {
                            h = V[k][i + 1];
                            V[k][i + 1] = s * V[k][i] + c * h;
                            V[k][i] = c * V[k][i] - s * h;
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }

    static double Hypot(double a, double b) => Math.Sqrt(a * a + b * b);
}
