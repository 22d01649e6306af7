using System.Security.Cryptography;
using System.Text.Json;
using Casebook.Embed;
using Casebook.Extract.Audio;
using Casebook.Extract.Documents;
using Casebook.Ingest;

namespace Casebook.Cluster.Workers;

/// <summary>
/// The client's side of the workers: the engine's own ingest pipeline runs on the coordinator as on one node, but its
/// heavy stages (text embedding, speech-to-text, document OCR) are plugged in as remote versions that put a job on the
/// work queue and wait for its result. Studies are therefore built by the same code, in the same order, with the same
/// segment ids; only where the CPU work happens changes. Before the pipeline starts, every dictation and scanned report
/// the inputs name is queued at once (<see cref="Prefetch"/>), so all workers transcribe and recognise in parallel while
/// the pipeline walks the studies in order and picks each result up.
/// </summary>
public sealed class RemoteStages : IAsyncDisposable
{
    /// <summary>Texts per embedding job: big enough for the model's batching, small enough to spread over workers.</summary>
    public const int EmbedJobTexts = 32;
    const int EmbedJobChars = 256 << 10;
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(30);

    readonly WorkQueue _queue;
    readonly List<string> _workers;
    readonly CancellationTokenSource _stop = new();
    Task _prefetch = Task.CompletedTask;

    RemoteStages(WorkQueue queue, List<string> workers) { _queue = queue; _workers = workers; }

    public static async Task<RemoteStages> ConnectAsync(ClusterConfig config, CancellationToken ct = default)
    {
        var queue = new WorkQueue(config);
        await queue.EnsureAsync(TimeSpan.FromSeconds(60), ct);
        return new RemoteStages(queue, config.Nodes.Where(n => n.Role == "worker").Select(n => n.Name).ToList());
    }

    /// <summary>Plugs the remote stages into a database's options and an ingest's options, and queues the slow jobs ahead.</summary>
    public void Attach(CasebookOptions db, IngestOptions ingest, IReadOnlyList<string> paths)
    {
        db.TextEmbedder = new RemoteTextEmbedder(this, EmbedderCache.Text(db.ModelConfig).Model);
        db.ImageEmbedder = new RemoteImageEmbedder(this, EmbedderCache.Image(db.ModelConfig).Model);
        ingest.SpeechToText.CreateEngine = o => new RemoteSpeechToText(this, o);
        ingest.Documents.Extractor = (path, ct) => ExtractDocument(path, ingest.Documents, ct);
        _prefetch = Task.Run(() => Prefetch(paths, ingest, _stop.Token));
    }

    // --- embedding -------------------------------------------------------------------------------------------------

    sealed class RemoteTextEmbedder(RemoteStages remote, EmbeddingModelInfo model) : ITextEmbedder
    {
        public EmbeddingModelInfo Model => model;
        public float[][] Embed(IReadOnlyList<string> texts) => remote.EmbedAsync(texts, model.Id).GetAwaiter().GetResult();
        public void Dispose() { }
    }

    /// <summary>Splits the texts into jobs, queues them all (every worker takes some) and joins the vectors in order.</summary>
    async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, string modelId)
    {
        var jobs = new List<WorkJob>();
        for (var i = 0; i < texts.Count;)
        {
            var chunk = new List<string>();
            var chars = 0;
            while (i < texts.Count && chunk.Count < EmbedJobTexts && (chunk.Count == 0 || chars + texts[i].Length <= EmbedJobChars)) { chars += texts[i].Length; chunk.Add(texts[i++]); }
            jobs.Add(new WorkJob
            {
                Id = WorkStages.JobId(WorkKind.Embed, modelId, [.. chunk.Select(System.Text.Encoding.UTF8.GetBytes)]),
                Kind = WorkKind.Embed, Texts = chunk, Model = modelId,
            });
        }
        foreach (var job in jobs) await _queue.SubmitAsync(job, _stop.Token);
        var results = await Task.WhenAll(jobs.Select(j => ResultAsync(j.Id)));
        var vectors = new List<float[]>(texts.Count);
        foreach (var r in results)
        {
            if (r.Error != null) throw new InvalidOperationException($"embedding on a worker failed: {r.Error}");
            vectors.AddRange(r.Vectors ?? []);
        }
        if (vectors.Count != texts.Count) throw new InvalidDataException($"workers returned {vectors.Count} vectors for {texts.Count} texts");
        return [.. vectors];
    }

    // --- image embedding ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Key images (PNG/JPEG), rendered DICOM frames and region crops: the engine's call (one study's images, one chunk of
    /// frames, one crop) becomes one job, so a worker batches exactly as one node would and the vectors are the same.
    /// A bad image fails on the worker with the engine's message, raised here as the engine's exception type.
    /// </summary>
    sealed class RemoteImageEmbedder(RemoteStages remote, EmbeddingModelInfo model) : IPixelImageEmbedder
    {
        public EmbeddingModelInfo Model => model;
        public float[][] Embed(IReadOnlyList<byte[]> encodedImages) =>
            remote.EmbedImagesAsync(encodedImages.Select(b => (0, 0, 0, b)).ToList(), "encoded", model.Id).GetAwaiter().GetResult();
        public float[][] EmbedPixels(IReadOnlyList<DecodedImage> images) =>
            remote.EmbedImagesAsync(images.Select(i => (i.Width, i.Height, i.Channels, i.Pixels)).ToList(), "pixels", model.Id).GetAwaiter().GetResult();
        public void Dispose() { }
    }

    async Task<float[][]> EmbedImagesAsync(List<(int, int, int, byte[])> images, string format, string modelId)
    {
        if (images.Count == 0) return [];
        var packed = WorkStages.PackImages(images);
        var job = new WorkJob
        {
            Id = WorkStages.JobId(WorkKind.Image, $"{modelId}|{format}", packed),
            Kind = WorkKind.Image, Input = Convert.ToHexStringLower(SHA256.HashData(packed)), Model = modelId, Format = format,
        };
        if (await _queue.TryResultAsync(job.Id, _stop.Token) == null)
        {
            await _queue.PutInputAsync(job.Input, packed, _stop.Token);
            await _queue.SubmitAsync(job, _stop.Token);
        }
        var r = await ResultAsync(job.Id);
        if (r.Error != null) throw new InvalidDataException(r.Error);
        if (r.Vectors is not { } v || v.Length != images.Count) throw new InvalidDataException($"a worker returned {r.Vectors?.Length ?? 0} image vectors for {images.Count} images");
        return v;
    }

    // --- speech-to-text --------------------------------------------------------------------------------------------

    sealed class RemoteSpeechToText(RemoteStages remote, SpeechToTextOptions options) : ISpeechToText
    {
        public string Name => options.Engine;
        public Transcript Transcribe(DecodedAudio audio, CancellationToken ct = default)
        {
            var r = remote.TranscribeAsync(audio, options, ct).GetAwaiter().GetResult();
            if (r.Error != null) throw new SpeechToTextException(r.Error);
            return r.Transcript?.ToTranscript() ?? throw new SpeechToTextException("a worker returned no transcript");
        }
        public void Dispose() { }
    }

    async Task<WorkResult> TranscribeAsync(DecodedAudio audio, SpeechToTextOptions options, CancellationToken ct) => await ResultAsync(await SubmitAsrAsync(audio, options, ct));

    async Task<string> SubmitAsrAsync(DecodedAudio audio, SpeechToTextOptions options, CancellationToken ct)
    {
        var bytes = new byte[audio.Samples.Length * 4];
        Buffer.BlockCopy(audio.Samples, 0, bytes, 0, bytes.Length);
        var settings = JsonSerializer.Serialize(options);
        var job = new WorkJob
        {
            Id = WorkStages.JobId(WorkKind.Asr, $"{settings}|{audio.SampleRate}|{audio.Format}", bytes),
            Kind = WorkKind.Asr, Input = Convert.ToHexStringLower(SHA256.HashData(bytes)), SampleRate = audio.SampleRate, Format = audio.Format,
            Settings = JsonDocument.Parse(settings).RootElement,
        };
        if (await _queue.TryResultAsync(job.Id, ct) == null)
        {
            await _queue.PutInputAsync(job.Input, bytes, ct);
            await _queue.SubmitAsync(job, ct);
        }
        return job.Id;
    }

    // --- scanned reports (text layer or OCR) -----------------------------------------------------------------------

    ExtractedDocument ExtractDocument(string path, DocumentExtractionOptions options, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new DocumentExtractionException(path, DocumentFailure.NotFound, "no such file");
        var r = Task.Run(async () => await ResultAsync(await SubmitOcrAsync(path, options, ct)), ct).GetAwaiter().GetResult();
        if (r.Error != null) throw new DocumentExtractionException(path, r.Failure ?? DocumentFailure.OcrFailed, r.Detail ?? r.Error);
        var d = r.Document ?? throw new DocumentExtractionException(path, DocumentFailure.OcrFailed, "a worker returned no document");
        return new ExtractedDocument(path, d.Format, d.Pages);
    }

    async Task<string> SubmitOcrAsync(string path, DocumentExtractionOptions options, CancellationToken ct)
    {
        var bytes = await File.ReadAllBytesAsync(path, ct);
        var settings = JsonSerializer.Serialize(options);
        var job = new WorkJob
        {
            Id = WorkStages.JobId(WorkKind.Ocr, $"{settings}|{Path.GetFileName(path)}", bytes),
            Kind = WorkKind.Ocr, Input = Convert.ToHexStringLower(SHA256.HashData(bytes)), FileName = Path.GetFileName(path),
            Settings = JsonDocument.Parse(settings).RootElement,
        };
        if (await _queue.TryResultAsync(job.Id, ct) == null)
        {
            await _queue.PutInputAsync(job.Input, bytes, ct);
            await _queue.SubmitAsync(job, ct);
        }
        return job.Id;
    }

    async Task<WorkResult> ResultAsync(string jobId) =>
        JsonSerializer.Deserialize<WorkResult>(await _queue.AwaitResultAsync(jobId, JobTimeout, _workers, _stop.Token)) ?? throw new InvalidDataException($"job {jobId}: empty result");

    /// <summary>
    /// Queues every dictation and scanned report of the inputs before the pipeline reaches them. Best effort: a file that
    /// cannot be read here is skipped, and the pipeline reports it when it gets there (as one node would).
    /// </summary>
    async Task Prefetch(IReadOnlyList<string> paths, IngestOptions options, CancellationToken ct)
    {
        var attachments = new List<StudyAttachment>();
        var inputs = StudyManifest.Discover(paths, new List<IngestError>(), null, attachments);
        var dictations = inputs.Where(i => i.DictationPath != null).Select(i => i.DictationPath!)
            .Concat(attachments.Where(a => a.Kind == AttachmentKind.Dictation).Select(a => a.File));
        var documents = inputs.Where(i => i.ReportText == null && i.ReportPath != null && IsDocument(i.ReportPath)).Select(i => i.ReportPath!)
            .Concat(attachments.Where(a => a.Kind == AttachmentKind.Report && IsDocument(a.File)).Select(a => a.File));
        foreach (var path in documents.Distinct())
        {
            if (ct.IsCancellationRequested) return;
            try { await SubmitOcrAsync(path, options.Documents, ct); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        foreach (var path in dictations.Distinct())
        {
            if (ct.IsCancellationRequested) return;
            try { await SubmitAsrAsync(AudioDecoder.Decode(path, ct: ct), options.SpeechToText, ct); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or AudioDecodeException) { }
        }
    }

    static bool IsDocument(string path) =>
        DocumentTextExtractor.SupportedExtensions.Contains(Path.GetExtension(path).ToLowerInvariant())
        || (File.Exists(path) && new FileInfo(path).Length > 0 && DocumentTextExtractor.DetectFormat(path) != "unknown");

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _prefetch; } catch (OperationCanceledException) { } catch (Exception) { } // best effort only
        await _queue.DisposeAsync();
        _stop.Dispose();
    }
}
