using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Casebook.Embed;

/// <summary>Tuning of a text embedder: ONNX Runtime threads, batch size and the overlap of long-text windows.</summary>
public sealed record TextEmbedderOptions
{
    public OnnxRunOptions Onnx { get; init; } = OnnxRunOptions.Default;
    /// <summary>Token windows per ONNX Runtime call (windows are sorted by length first, so padding stays small).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Tokens shared by consecutive windows of a text longer than the model's window.</summary>
    public int WindowOverlap { get; init; } = 32;

    public static TextEmbedderOptions Default { get; } = new();
}

/// <summary>What a BERT-style ONNX text model needs: its name, window size (incl. [CLS]/[SEP]), pooling and output.</summary>
public sealed record TextModelSpec(string Name, int MaxTokens = 256, Pooling Pooling = Pooling.Mean, string? OutputName = null, bool LowerCase = true);

/// <summary>One padded batch of token windows, laid out row-major as ONNX Runtime wants it ([Rows, Length]).</summary>
public sealed class TokenBatch
{
    public required int Rows { get; init; }
    public required int Length { get; init; }
    public required long[] InputIds { get; init; }
    public required long[] AttentionMask { get; init; }
    public required long[] TokenTypeIds { get; init; }
    /// <summary>For each row, the index of the window it holds (see <see cref="OnnxTextEmbedder.EncodeBatches"/>).</summary>
    public required int[] WindowIndex { get; init; }
}

/// <summary>
/// Text embedder over a BERT-style ONNX model (input_ids, attention_mask, optional token_type_ids).
/// Texts longer than the model's window are split into overlapping token windows; each window is embedded,
/// and the text's vector is the token-count-weighted mean of its window vectors, re-normalised — never a truncation.
/// Thread-safe: the tokenizer is immutable and ONNX Runtime sessions may run concurrently.
/// </summary>
public class OnnxTextEmbedder : ITextEmbedder
{
    readonly InferenceSession _session;
    readonly string _outputName;
    readonly bool _hasTokenTypes;
    readonly string _source;

    public EmbeddingModelInfo Model { get; }
    public TextModelSpec Spec { get; }
    public TextEmbedderOptions Options { get; }
    public WordPieceTokenizer Tokenizer { get; }
    /// <summary>Word pieces per window, excluding [CLS] and [SEP].</summary>
    public int WindowContentTokens => Spec.MaxTokens - 2;

    protected OnnxTextEmbedder(byte[] modelBytes, WordPieceTokenizer tokenizer, TextModelSpec spec, TextEmbedderOptions? options, string source)
    {
        options ??= TextEmbedderOptions.Default;
        if (spec.MaxTokens < 4) throw new ArgumentException($"{spec.Name}: MaxTokens must be at least 4, got {spec.MaxTokens}");
        if (options.BatchSize < 1) throw new ArgumentException($"{spec.Name}: BatchSize must be positive, got {options.BatchSize}");
        if (options.WindowOverlap < 0 || options.WindowOverlap >= spec.MaxTokens - 2)
            throw new ArgumentException($"{spec.Name}: WindowOverlap must be in [0, {spec.MaxTokens - 3}], got {options.WindowOverlap}");
        Spec = spec;
        Options = options;
        Tokenizer = tokenizer;
        _source = source;
        _session = OnnxModelLoader.OpenSession(modelBytes, options.Onnx, source);
        try
        {
            foreach (var required in new[] { "input_ids", "attention_mask" })
                if (!_session.InputMetadata.ContainsKey(required))
                    throw new InvalidDataException($"text model {source} lacks input '{required}'; its inputs are: {string.Join(", ", _session.InputMetadata.Keys)}");
            if (_session.InputMetadata["input_ids"].ElementType != typeof(long))
                throw new InvalidDataException($"text model {source}: input_ids must be int64, is {_session.InputMetadata["input_ids"].ElementType.Name}");
            _hasTokenTypes = _session.InputMetadata.ContainsKey("token_type_ids");
            _outputName = OnnxModelLoader.ResolveOutput(_session, spec.OutputName, source);
            var dims = _session.OutputMetadata[_outputName].Dimensions;
            var dimension = dims.Length > 0 ? dims[^1] : -1;
            if (dimension <= 0) dimension = EmbedWindowsOf([[]])[0].Length; // dynamic last axis: probe once
            Model = new EmbeddingModelInfo(spec.Name, OnnxModelLoader.Sha256Hex(modelBytes), dimension);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var windows = new List<int[]>(texts.Count);
        var owner = new List<int>(texts.Count);
        for (var t = 0; t < texts.Count; t++)
        {
            var text = texts[t] ?? throw new ArgumentException($"text {t} is null", nameof(texts));
            foreach (var w in SplitIntoWindows(Tokenizer.Encode(text))) { windows.Add(w); owner.Add(t); }
        }
        var windowVectors = EmbedWindowsOf(windows);
        var result = new float[texts.Count][];
        var dim = windowVectors.Length > 0 ? windowVectors[0].Length : Model.Dimension;
        var first = 0;
        for (var t = 0; t < texts.Count; t++)
        {
            var last = first;
            while (last < owner.Count && owner[last] == t) last++;
            if (last - first == 1) result[t] = windowVectors[first];
            else
            {
                var sum = new float[dim];
                for (var w = first; w < last; w++)
                    TensorPrimitives.MultiplyAdd(windowVectors[w], (float)Math.Max(1, windows[w].Length), sum, sum);
                VectorMath.NormalizeInPlace(sum);
                result[t] = sum;
            }
            first = last;
        }
        return result;
    }

    public float[] Embed(string text) => Embed([text])[0];

    /// <summary>The unit vector of each token window of <paramref name="text"/>, in text order (one for short text).</summary>
    public float[][] EmbedWindows(string text) => EmbedWindowsOf(SplitIntoWindows(Tokenizer.Encode(text)));

    /// <summary>Word-piece windows of a text (content tokens only), each at most <see cref="WindowContentTokens"/> long.</summary>
    public List<int[]> SplitIntoWindows(List<int> ids)
    {
        var size = WindowContentTokens;
        var windows = new List<int[]>(1 + ids.Count / size);
        if (ids.Count <= size) { windows.Add(ids.ToArray()); return windows; }
        var stride = size - Options.WindowOverlap;
        for (var start = 0; ; start += stride)
        {
            var length = Math.Min(size, ids.Count - start);
            windows.Add(ids.GetRange(start, length).ToArray());
            if (start + length >= ids.Count) break;
        }
        return windows;
    }

    /// <summary>
    /// Tokenises <paramref name="texts"/> into windows and packs them, sorted by length, into padded batches:
    /// exactly what <see cref="Embed(IReadOnlyList{string})"/> feeds ONNX Runtime (exposed for benchmarks).
    /// </summary>
    public List<TokenBatch> EncodeBatches(IReadOnlyList<string> texts)
    {
        var windows = new List<int[]>();
        foreach (var text in texts) windows.AddRange(SplitIntoWindows(Tokenizer.Encode(text)));
        return PackBatches(windows);
    }

    List<TokenBatch> PackBatches(IReadOnlyList<int[]> windows)
    {
        var order = new int[windows.Count];
        var lengths = new int[windows.Count];
        for (var i = 0; i < order.Length; i++) { order[i] = i; lengths[i] = windows[i].Length; }
        Array.Sort(lengths, order); // by length, so each batch pads to nearly its own length
        var batches = new List<TokenBatch>((windows.Count + Options.BatchSize - 1) / Options.BatchSize);
        for (var start = 0; start < order.Length; start += Options.BatchSize)
        {
            var rows = Math.Min(Options.BatchSize, order.Length - start);
            var length = lengths[start + rows - 1] + 2;
            var ids = new long[rows * length];
            var mask = new long[rows * length];
            var index = new int[rows];
            for (var r = 0; r < rows; r++)
            {
                var window = windows[order[start + r]];
                index[r] = order[start + r];
                var row = ids.AsSpan(r * length, length);
                row[0] = Tokenizer.ClsId;
                for (var k = 0; k < window.Length; k++) row[k + 1] = window[k];
                row[window.Length + 1] = Tokenizer.SepId;
                if (Tokenizer.PadId != 0) row[(window.Length + 2)..].Fill(Tokenizer.PadId);
                mask.AsSpan(r * length, window.Length + 2).Fill(1);
            }
            batches.Add(new TokenBatch { Rows = rows, Length = length, InputIds = ids, AttentionMask = mask, TokenTypeIds = new long[rows * length], WindowIndex = index });
        }
        return batches;
    }

    float[][] EmbedWindowsOf(IReadOnlyList<int[]> windows)
    {
        var vectors = new float[windows.Count][];
        foreach (var batch in PackBatches(windows))
        {
            var pooled = RunBatch(batch);
            for (var r = 0; r < batch.Rows; r++) vectors[batch.WindowIndex[r]] = pooled[r];
        }
        return vectors;
    }

    /// <summary>Runs one batch and returns one pooled, L2-normalised vector per row.</summary>
    public float[][] RunBatch(TokenBatch batch)
    {
        long[] shape = [batch.Rows, batch.Length];
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, shape);
        using var types = _hasTokenTypes ? OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds, shape) : null;
        var names = _hasTokenTypes ? new[] { "input_ids", "attention_mask", "token_type_ids" } : new[] { "input_ids", "attention_mask" };
        var values = _hasTokenTypes ? new[] { ids, mask, types! } : new[] { ids, mask };
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, names, values, [_outputName]);
        var output = outputs[0];
        var outShape = output.GetTensorTypeAndShape().Shape;
        var data = output.GetTensorDataAsSpan<float>();
        var result = new float[batch.Rows][];
        if (Spec.Pooling == Pooling.None || outShape.Length == 2)
        {
            var dim = data.Length / batch.Rows;
            for (var r = 0; r < batch.Rows; r++) result[r] = data.Slice(r * dim, dim).ToArray();
        }
        else
        {
            if (outShape.Length != 3 || outShape[0] != batch.Rows || outShape[1] != batch.Length)
                throw new InvalidDataException($"text model {_source}: output '{_outputName}' has shape [{string.Join(",", outShape)}], expected [{batch.Rows},{batch.Length},hidden]");
            var hidden = (int)outShape[2];
            for (var r = 0; r < batch.Rows; r++)
            {
                var v = new float[hidden];
                var tokens = data.Slice(r * batch.Length * hidden, batch.Length * hidden);
                if (Spec.Pooling == Pooling.Cls) tokens[..hidden].CopyTo(v);
                else
                {
                    var count = 0;
                    for (var t = 0; t < batch.Length; t++)
                    {
                        if (batch.AttentionMask[r * batch.Length + t] == 0) continue;
                        TensorPrimitives.Add(v, tokens.Slice(t * hidden, hidden), v);
                        count++;
                    }
                    if (count > 0) TensorPrimitives.Divide(v, count, v);
                }
                result[r] = v;
            }
        }
        foreach (var v in result) VectorMath.NormalizeInPlace(v);
        return result;
    }

    public void Dispose()
    {
        _session.Dispose();
        GC.SuppressFinalize(this);
    }
}
