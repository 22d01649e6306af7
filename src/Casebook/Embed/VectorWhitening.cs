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

/// <summary>Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (accurate; O(n³) per sweep).</summary>
static class SymmetricEigen
{
    /// <summary>Returns eigenvalues and eigenvectors (as columns). The input is copied.</summary>
    public static (double[] values, double[,] vectors) Decompose(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var v = new double[n, n];
        for (var i = 0; i < n; i++) v[i, i] = 1;
        for (var sweep = 0; sweep < 60; sweep++)
        {
            double off = 0, diag = 0;
            for (var p = 0; p < n; p++)
            {
                diag += a[p, p] * a[p, p];
                for (var q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            }
            if (off <= 1e-22 * diag || off == 0) break;
            for (var p = 0; p < n - 1; p++)
            for (var q = p + 1; q < n; q++)
            {
                var apq = a[p, q];
                if (Math.Abs(apq) < 1e-300) continue;
                var theta = (a[q, q] - a[p, p]) / (2 * apq);
                var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                if (theta == 0) t = 1;
                var c = 1 / Math.Sqrt(t * t + 1);
                var s = t * c;
                for (var k = 0; k < n; k++) // columns p and q
                {
                    double akp = a[k, p], akq = a[k, q];
                    a[k, p] = c * akp - s * akq;
                    a[k, q] = s * akp + c * akq;
                }
                for (var k = 0; k < n; k++) // rows p and q
                {
                    double apk = a[p, k], aqk = a[q, k];
                    a[p, k] = c * apk - s * aqk;
                    a[q, k] = s * apk + c * aqk;
                }
                for (var k = 0; k < n; k++)
                {
                    double vkp = v[k, p], vkq = v[k, q];
                    v[k, p] = c * vkp - s * vkq;
                    v[k, q] = s * vkp + c * vkq;
                }
            }
        }
        var values = new double[n];
        for (var i = 0; i < n; i++) values[i] = a[i, i];
        return (values, v);
    }
}
