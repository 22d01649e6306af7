using System.Text.Json;
using System.Text.Json.Serialization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Net;

namespace Casebook.Cluster.Workers;

/// <summary>The heavy ingest stages a worker runs (subject casebook.work.&lt;kind&gt;).</summary>
public static class WorkKind
{
    public const string Ocr = "ocr", Asr = "asr", Embed = "embed";
    /// <summary>Image embedding: encoded key images (PNG/JPEG) or decoded pixels (rendered DICOM frames, region crops).</summary>
    public const string Image = "image";
}

/// <summary>
/// One job on the work queue. <see cref="Id"/> is the SHA-256 of the stage, its settings and its input, so the same
/// input gives the same id on every client and every retry: it is the publish message id (a second submit inside the
/// duplicate window is a no-op) and the key of the result.
/// </summary>
public sealed class WorkJob
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    /// <summary>Embed: the texts, and the model id the client stamps on segments (a worker with another model refuses).</summary>
    [JsonPropertyName("texts")] public List<string>? Texts { get; set; }
    [JsonPropertyName("model")] public string? Model { get; set; }
    /// <summary>ASR, OCR and image: the input's SHA-256 in the object store casebook-work (audio samples, the document file,
    /// or the images packed by <see cref="WorkStages.PackImages"/>).</summary>
    [JsonPropertyName("input")] public string? Input { get; set; }
    [JsonPropertyName("sample_rate")] public int SampleRate { get; set; }
    [JsonPropertyName("format")] public string? Format { get; set; }
    [JsonPropertyName("file_name")] public string? FileName { get; set; }
    /// <summary>ASR / OCR: the client's engine settings, so a worker transcribes and recognises exactly as one node would.</summary>
    [JsonPropertyName("settings")] public JsonElement? Settings { get; set; }
}

/// <summary>
/// The work queue on JetStream: stream CASEBOOK_WORK over casebook.work.* with work-queue retention (a job is removed
/// once a worker acknowledges it), one durable pull consumer shared by every worker, results in the KV bucket
/// casebook-results keyed by job id, inputs in the object store casebook-work by SHA-256. Replicas = NATS nodes.
/// </summary>
public sealed class WorkQueue : IAsyncDisposable
{
    public const string Stream = "CASEBOOK_WORK", Consumer = "workers", SubjectPrefix = "casebook.work.";
    /// <summary>A job whose workers died this many times (a poison input crashing the engine) is answered with an error instead.</summary>
    public const int MaxDeliveries = 5;
    const string ResultBucket = "casebook-results", InputBucket = "casebook-work";
    /// <summary>Results and inputs expire after a day: long enough for any ingest to read them, short enough not to pile up.</summary>
    static readonly TimeSpan Keep = TimeSpan.FromDays(1);

    readonly NatsConnection _nats;
    readonly NatsJSContext _js;
    readonly int _replicas;
    readonly TimeSpan _ackWait;
    INatsKVStore? _results;
    INatsObjStore? _inputs;

    public WorkQueue(ClusterConfig config)
    {
        _nats = new NatsConnection(ClusterTls.Nats(new NatsOpts { Url = string.Join(",", config.Nats), Name = "casebook-work", RequestTimeout = TimeSpan.FromSeconds(20), ConnectTimeout = TimeSpan.FromSeconds(10) }, config)); // TLS when cluster.json has a tls section
        _js = new NatsJSContext(_nats);
        _replicas = config.Replicas;
        _ackWait = TimeSpan.FromSeconds(config.WorkAckWaitSeconds);
    }

    public TimeSpan AckWait => _ackWait;

    /// <summary>Creates the stream, the consumer and the buckets when missing (idempotent); retries while JetStream elects leaders.</summary>
    public async Task EnsureAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await _js.CreateOrUpdateStreamAsync(new StreamConfig(Stream, [SubjectPrefix + "*"])
                {
                    NumReplicas = _replicas, Storage = StreamConfigStorage.File, Retention = StreamConfigRetention.Workqueue,
                    MaxMsgSize = 8 << 20, DuplicateWindow = TimeSpan.FromMinutes(10),
                }, ct);
                await ConsumerAsync(ct);
                var kv = _js.CreateKeyValueStoreContext();
                _results = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(ResultBucket)
                {
                    NumberOfReplicas = _replicas, Storage = NatsKVStorageType.File, History = 1, MaxAge = Keep, MaxValueSize = 8 << 20,
                }, ct);
                _inputs = await _js.CreateObjectStoreContext().CreateObjectStoreAsync(new NatsObjConfig(InputBucket)
                {
                    NumberOfReplicas = _replicas, Storage = NatsObjStorageType.File, MaxAge = Keep,
                }, ct);
                return;
            }
            catch (Exception e) when (e is NatsException or NatsJSApiException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"NATS JetStream work queue not ready in {timeout.TotalSeconds:0} s: {e.Message}", e);
                await Task.Delay(500, ct);
            }
        }
    }

    /// <summary>
    /// The durable pull consumer every worker shares: explicit acks, and a job not acknowledged (nor marked in progress)
    /// within AckWait goes to another worker. No filter subject: Debian's nats-server 2.9 rejects the filtered consumer
    /// create this client sends, and a work-queue stream allows one unfiltered consumer, which is all we need.
    /// </summary>
    public Task<INatsJSConsumer> ConsumerAsync(CancellationToken ct = default) =>
        _js.CreateOrUpdateConsumerAsync(Stream, new ConsumerConfig(Consumer)
        {
            AckPolicy = ConsumerConfigAckPolicy.Explicit, AckWait = _ackWait, MaxAckPending = 1024, MaxDeliver = -1,
            NumReplicas = _replicas,
        }, ct).AsTask();

    async Task<INatsKVStore> Results() => _results ??= await _js.CreateKeyValueStoreContext().GetStoreAsync(ResultBucket);
    async Task<INatsObjStore> Inputs() => _inputs ??= await _js.CreateObjectStoreContext().GetObjectStoreAsync(InputBucket);

    public async Task PutInputAsync(string sha256, byte[] bytes, CancellationToken ct = default)
    {
        var store = await Inputs();
        try { await store.GetInfoAsync(sha256, cancellationToken: ct); return; } // content-addressed: stored once
        catch (NatsObjNotFoundException) { }
        await store.PutAsync(sha256, bytes, ct);
    }

    public async Task<byte[]> GetInputAsync(string sha256, CancellationToken ct = default) => await (await Inputs()).GetBytesAsync(sha256, ct);

    /// <summary>Queues a job unless its result exists; the job id as message id makes a repeated submit a no-op.</summary>
    public async Task SubmitAsync(WorkJob job, CancellationToken ct = default)
    {
        if (await TryResultAsync(job.Id, ct) != null) return;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(job);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var ack = await _js.PublishAsync(SubjectPrefix + job.Kind, bytes, opts: new NatsJSPubOpts { MsgId = job.Id }, cancellationToken: ct);
                if (!ack.Duplicate) ack.EnsureSuccess(); // a duplicate is the same job already queued (prefetch, or another client)
                return;
            }
            catch (Exception e) when (e is NatsException or TimeoutException && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                await Task.Delay(250, ct); // a leader election after a lost node
            }
        }
    }

    public async Task<byte[]?> TryResultAsync(string jobId, CancellationToken ct = default)
    {
        var got = await (await Results()).TryGetEntryAsync<byte[]>(jobId, cancellationToken: ct);
        return got.Success ? got.Value.Value : null;
    }

    /// <summary>
    /// Waits for a job's result (polling the bucket; KV watches need a filtered consumer, which nats-server 2.9 refuses
    /// from this client). Fails early, naming the workers, when none of them has sent a heartbeat for 30 s.
    /// </summary>
    public async Task<byte[]> AwaitResultAsync(string jobId, TimeSpan timeout, IReadOnlyList<string> workers, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = 20;
        var nextBeatCheck = DateTime.UtcNow;
        while (true)
        {
            if (await TryResultAsync(jobId, ct) is { } r) return r;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no worker finished job {jobId} in {timeout.TotalSeconds:0} s (are workers running? casebook cluster status)");
            if (DateTime.UtcNow > nextBeatCheck)
            {
                if (!await AnyAliveAsync(workers, ct))
                    throw new InvalidOperationException($"no worker is alive: none of {string.Join(", ", workers)} sent a heartbeat in the last {DeadAfter.TotalSeconds:0} s (casebook cluster status; start one with casebook cluster worker --cluster FILE --name NAME)");
                nextBeatCheck = DateTime.UtcNow.AddSeconds(5);
            }
            await Task.Delay(delay, ct);
            delay = Math.Min(250, delay * 2);
        }
    }

    /// <summary>A worker not heard from for this long is taken for dead by waiting clients.</summary>
    static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(30);
    const string BeatPrefix = "worker.";

    /// <summary>A worker's heartbeat (the time, in the results bucket under worker.&lt;name&gt;), so clients on any machine can tell it lives.</summary>
    public async Task BeatAsync(string worker, CancellationToken ct = default) =>
        await (await Results()).PutAsync(BeatPrefix + worker, System.Text.Encoding.ASCII.GetBytes(DateTime.UtcNow.Ticks.ToString()), cancellationToken: ct);

    async Task<bool> AnyAliveAsync(IReadOnlyList<string> workers, CancellationToken ct)
    {
        foreach (var w in workers)
        {
            var got = await (await Results()).TryGetEntryAsync<byte[]>(BeatPrefix + w, cancellationToken: ct);
            if (got.Success && long.TryParse(System.Text.Encoding.ASCII.GetString(got.Value.Value ?? []), out var ticks) && DateTime.UtcNow - new DateTime(ticks, DateTimeKind.Utc) < DeadAfter) return true;
        }
        return false;
    }

    /// <summary>Writes a job's result. Results are deterministic in the input, so a redelivered job rewrites the same value.</summary>
    public async Task PutResultAsync(string jobId, byte[] result, CancellationToken ct = default) => await (await Results()).PutAsync(jobId, result, cancellationToken: ct);

    public async ValueTask DisposeAsync() => await _nats.DisposeAsync();
}
