namespace Casebook.Embed;

/// <summary>How per-token (text) or per-location (image) model outputs become one vector.</summary>
public enum Pooling
{
    /// <summary>Average over tokens under the attention mask (sentence-transformers) or over spatial positions.</summary>
    Mean,
    /// <summary>The first token's state ([CLS]).</summary>
    Cls,
    /// <summary>The output already is one vector per input (e.g. a CLIP projection head); it is flattened.</summary>
    None,
}

/// <summary>Small vector helpers shared by the embedders and post-processing.</summary>
public static class VectorMath
{
    /// <summary>Scales <paramref name="v"/> to unit length in place (a zero vector stays zero).</summary>
    public static void NormalizeInPlace(Span<float> v)
    {
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(v);
        if (norm > 0 && float.IsFinite(norm)) System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);

    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);
}
