using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Casebook.Embed;
using Casebook.Extract.Audio;
using Casebook.Extract.Documents;

namespace Casebook.Cluster.Workers;

/// <summary>What a worker wrote for a job: the stage's output, or the error it gave (a bad input fails the same way every time).</summary>
public sealed class WorkResult
{
    [JsonPropertyName("error")] public string? Error { get; set; }
    /// <summary>OCR errors: the <see cref="DocumentFailure"/> and the detail, so the client raises the exception one node would.</summary>
    [JsonPropertyName("failure")] public DocumentFailure? Failure { get; set; }
    [JsonPropertyName("detail")] public string? Detail { get; set; }
    [JsonPropertyName("vectors")] public float[][]? Vectors { get; set; }
    [JsonPropertyName("transcript")] public TranscriptResult? Transcript { get; set; }
    [JsonPropertyName("document")] public ExtractedDocument? Document { get; set; }
}

/// <summary>A transcript without its processing time, which differs per run: the result must be the same on every delivery.</summary>
public sealed record TranscriptResult(
    [property: JsonPropertyName("segments")] List<TranscriptSegment> Segments,
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("duration")] double Duration)
{
    public Transcript ToTranscript() => new(Segments, Engine, Duration, 0);
}

/// <summary>
/// The worker's side of each job: the same engine code one node runs (EmbedderCache, SpeechToText, DocumentTextExtractor),
/// with the client's settings. Engines are loaded once per worker process and kept.
/// </summary>
public sealed class WorkStages(WorkQueue queue) : IDisposable
{
    readonly Dictionary<string, ISpeechToText> _speech = new();

    public async Task<WorkResult> RunAsync(WorkJob job, CancellationToken ct)
    {
        try
        {
            return job.Kind switch
            {
                WorkKind.Embed => Embed(job),
                WorkKind.Asr => await AsrAsync(job, ct),
                WorkKind.Ocr => await OcrAsync(job, ct),
                WorkKind.Image => await ImageAsync(job, ct),
                _ => new WorkResult { Error = $"unknown job kind '{job.Kind}'" },
            };
        }
        // Bad inputs and engines that cannot run fail the same way on every delivery: that is the job's result.
        catch (DocumentExtractionException e) { return new WorkResult { Error = e.Message, Failure = e.Reason, Detail = Detail(e.Message) }; }
        catch (Exception e) when (e is SpeechToTextException or AudioDecodeException or InvalidDataException or ArgumentException) { return new WorkResult { Error = e.Message }; }
    }

    static WorkResult Embed(WorkJob job)
    {
        var embedder = EmbedderCache.Text(null);
        if (job.Model != embedder.Model.Id)
            return new WorkResult { Error = $"this worker's text model is '{embedder.Model.Id}', the client's '{job.Model}': every node needs the same models" };
        return new WorkResult { Vectors = embedder.Embed(job.Texts ?? []) };
    }

    /// <summary>Image embedding with the engine's own calls: Embed for encoded images, EmbedPixels for decoded pixels (format "pixels").</summary>
    async Task<WorkResult> ImageAsync(WorkJob job, CancellationToken ct)
    {
        var embedder = EmbedderCache.Image(null);
        if (job.Model != embedder.Model.Id)
            return new WorkResult { Error = $"this worker's image model is '{embedder.Model.Id}', the client's '{job.Model}': every node needs the same models" };
        var images = UnpackImages(await queue.GetInputAsync(job.Input!, ct));
        if (job.Format == "pixels")
        {
            var pixels = embedder as IPixelImageEmbedder ?? throw new ArgumentException($"the image model '{embedder.Model.Id}' cannot embed decoded pixels");
            return new WorkResult { Vectors = pixels.EmbedPixels(images.Select(i => new DecodedImage(i.Width, i.Height, i.Channels, i.Bytes)).ToList()) };
        }
        return new WorkResult { Vectors = embedder.Embed(images.Select(i => i.Bytes).ToList()) };
    }

    /// <summary>Images as one input: per image width, height, channels (0 for encoded bytes), length, bytes (little-endian int32s).</summary>
    public static byte[] PackImages(IEnumerable<(int Width, int Height, int Channels, byte[] Bytes)> images)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        foreach (var (width, height, channels, bytes) in images) { w.Write(width); w.Write(height); w.Write(channels); w.Write(bytes.Length); w.Write(bytes); }
        w.Flush();
        return ms.ToArray();
    }

    public static List<(int Width, int Height, int Channels, byte[] Bytes)> UnpackImages(byte[] packed)
    {
        var list = new List<(int, int, int, byte[])>();
        using var r = new BinaryReader(new MemoryStream(packed));
        while (r.BaseStream.Position < packed.Length)
        {
            int width = r.ReadInt32(), height = r.ReadInt32(), channels = r.ReadInt32(), length = r.ReadInt32();
            if (length < 0 || length > packed.Length) throw new InvalidDataException("a packed image input is corrupt");
            list.Add((width, height, channels, r.ReadBytes(length)));
        }
        return list;
    }

    async Task<WorkResult> AsrAsync(WorkJob job, CancellationToken ct)
    {
        var bytes = await queue.GetInputAsync(job.Input!, ct);
        var samples = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 4);
        var settings = job.Settings?.GetRawText() ?? "{}";
        if (!_speech.TryGetValue(settings, out var engine))
            _speech[settings] = engine = SpeechToText.Create(JsonSerializer.Deserialize<SpeechToTextOptions>(settings) ?? new SpeechToTextOptions());
        var t = engine.Transcribe(new DecodedAudio(samples, job.SampleRate, job.Format ?? "pcm"), ct);
        return new WorkResult { Transcript = new TranscriptResult(t.Segments.ToList(), t.Engine, t.DurationSeconds) };
    }

    async Task<WorkResult> OcrAsync(WorkJob job, CancellationToken ct)
    {
        var bytes = await queue.GetInputAsync(job.Input!, ct);
        var options = job.Settings is { } s ? JsonSerializer.Deserialize<DocumentExtractionOptions>(s.GetRawText()) ?? new() : new();
        options.TempDirectory = null; // the client's scratch folder means nothing here
        // Written under the client's file name, so messages name the file the user gave.
        var dir = Directory.CreateTempSubdirectory("casebook-ocr-");
        try
        {
            var path = Path.Combine(dir.FullName, Path.GetFileName(job.FileName ?? "document"));
            await File.WriteAllBytesAsync(path, bytes, ct);
            var d = new DocumentTextExtractor(options).Extract(path, ct);
            return new WorkResult { Document = new ExtractedDocument(Path.GetFileName(path), d.Format, d.Pages) };
        }
        finally { try { dir.Delete(recursive: true); } catch (IOException) { } }
    }

    /// <summary>"name: reason: detail" → "detail" (DocumentExtractionException's message shape).</summary>
    static string Detail(string message) => message.Split(": ", 3) is { Length: 3 } parts ? parts[2] : message;

    public void Dispose()
    {
        foreach (var e in _speech.Values) e.Dispose();
        _speech.Clear();
    }

    /// <summary>Job id: SHA-256 over the stage, its settings and its input, each length-prefixed.</summary>
    public static string JobId(string kind, string settings, params byte[][] parts)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(byte[] b) { h.AppendData(BitConverter.GetBytes((long)b.Length)); h.AppendData(b); }
        Add(Encoding.UTF8.GetBytes(kind));
        Add(Encoding.UTF8.GetBytes(settings));
        foreach (var p in parts) Add(p);
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
