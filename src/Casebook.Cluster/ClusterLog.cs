using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Casebook.Model;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.ObjectStore;
using NATS.Net;

namespace Casebook.Cluster;

/// <summary>One entry of a shard's log partition: a study to upsert, or (when <see cref="Command"/> is set, and then
/// <see cref="Study"/> is null) a clinician's change or a purge (the log is the source of truth).</summary>
public sealed record LogEntry(long Sequence, StudyRecord Study, ClusterCommand? Command = null);

/// <summary>
/// The replicated log on NATS JetStream: stream CASEBOOK over subjects casebook.shard.&lt;n&gt; (replicas = NATS nodes),
/// the object store casebook-blobs (binaries by SHA-256) and casebook-snapshots (a shard's database at a log sequence).
/// </summary>
public sealed partial class ClusterLog : IAsyncDisposable
{
    public const string Stream = "CASEBOOK";
    const string BlobBucket = "casebook-blobs", SnapshotBucket = "casebook-snapshots";

    readonly NatsConnection _nats;
    readonly NatsJSContext _js;
    readonly INatsObjContext _obj;
    readonly int _replicas;
    readonly ClusterConfig _config;
    INatsObjStore? _blobs, _snapshots;

    /// <summary>Study records travel as JSON; read-only views (text_embeddings, image_embeddings) are left out.</summary>
    public static readonly JsonSerializerOptions RecordJson = new()
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers = { ti => { foreach (var p in ti.Properties.Where(p => p.Set == null && ti.Kind == JsonTypeInfoKind.Object).ToList()) ti.Properties.Remove(p); } },
        },
    };

    public ClusterLog(ClusterConfig config)
    {
        _nats = new NatsConnection(ClusterTls.Nats(new NatsOpts { Url = string.Join(",", config.Nats), Name = "casebook", RequestTimeout = TimeSpan.FromSeconds(20), ConnectTimeout = TimeSpan.FromSeconds(10) }, config));
        _config = config;
        _js = new NatsJSContext(_nats);
        _obj = _js.CreateObjectStoreContext();
        _replicas = config.Replicas;
    }

    /// <summary>Creates the stream and buckets when missing (idempotent); retries while JetStream elects its leaders.</summary>
    public async Task EnsureAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        await ClusterTls.PreflightAsync(_config, ct); // a TLS mismatch fails now, with its reason
        while (true)
        {
            try
            {
                await _js.CreateOrUpdateStreamAsync(new StreamConfig(Stream, [ShardMap.SubjectPrefix + "*"])
                {
                    NumReplicas = _replicas, Storage = StreamConfigStorage.File, MaxMsgSize = 8 << 20, DuplicateWindow = TimeSpan.FromMinutes(10),
                }, ct);
                _blobs = await _obj.CreateObjectStoreAsync(new NatsObjConfig(BlobBucket) { NumberOfReplicas = _replicas, Storage = NatsObjStorageType.File }, ct);
                _snapshots = await _obj.CreateObjectStoreAsync(new NatsObjConfig(SnapshotBucket) { NumberOfReplicas = _replicas, Storage = NatsObjStorageType.File }, ct);
                return;
            }
            catch (Exception e) when (e is NatsException or NatsJSApiException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"NATS JetStream did not become ready in {timeout.TotalSeconds:0} s: {e.Message}", e);
                await Task.Delay(500, ct);
            }
        }
    }

    async Task<INatsObjStore> Blobs() => _blobs ??= await _obj.GetObjectStoreAsync(BlobBucket);
    async Task<INatsObjStore> Snapshots() => _snapshots ??= await _obj.GetObjectStoreAsync(SnapshotBucket);

    /// <summary>Appends a study to its shard's partition; the answer is the stream sequence JetStream acknowledged
    /// (stored on the replicas). The message id makes a retried publish a no-op inside the duplicate window.</summary>
    public async Task<long> AppendAsync(int shard, StudyRecord study, CancellationToken ct = default)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(study, RecordJson);
        var messageId = study.StudyId + ":" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        // Retried while JetStream elects a new leader after a node is lost; the message id makes a retry a no-op.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var ack = await _js.PublishAsync(ShardMap.Subject(shard), bytes, opts: new NatsJSPubOpts { MsgId = messageId }, cancellationToken: ct);
                ack.EnsureSuccess();
                return (long)ack.Seq;
            }
            catch (Exception e) when (e is NatsException or TimeoutException && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    /// <summary>Entries of one shard after <paramref name="afterSequence"/>, in log order, at most <paramref name="max"/>;
    /// empty when the shard has nothing newer.</summary>
    public async Task<List<LogEntry>> ReadAsync(int shard, long afterSequence, int max, CancellationToken ct = default)
    {
        // Direct gets by subject ("the next message of casebook.shard.n from sequence s"): no consumer state on the
        // servers, works on Debian's nats-server 2.9 (whose consumer-create API rejects filtered ephemeral consumers
        // made by this client). One request per entry: fine for catch-up on loopback, a pull consumer would batch.
        var stream = await _js.GetStreamAsync(Stream, cancellationToken: ct);
        var list = new List<LogEntry>();
        var next = afterSequence + 1;
        while (list.Count < max)
        {
            StreamMsgGetResponse got;
            try { got = await stream.GetAsync(new StreamMsgGetRequest { Seq = (ulong)next, NextBySubj = ShardMap.Subject(shard) }, ct); }
            catch (NatsJSApiException e) when (e.Error.Code == 404) { break; }
            var m = got.Message;
            if (m.Subject != ShardMap.Subject(shard)) throw new InvalidDataException($"shard {shard} was sent an entry of {m.Subject}");
            if (ClusterCommand.IsCommand(m.Data.Span))
                list.Add(new LogEntry((long)m.Seq, null!, JsonSerializer.Deserialize<ClusterCommand>(m.Data.Span) ?? throw new InvalidDataException($"log entry {m.Seq} of shard {shard} is empty")));
            else
            {
                var study = JsonSerializer.Deserialize<StudyRecord>(m.Data.Span, RecordJson) ?? throw new InvalidDataException($"log entry {m.Seq} of shard {shard} is empty");
                list.Add(new LogEntry((long)m.Seq, study));
            }
            next = (long)m.Seq + 1;
        }
        return list;
    }

    /// <summary>The newest stream sequence on a shard's subject (0 when it has none).</summary>
    public async Task<long> LastSequenceAsync(int shard, CancellationToken ct = default)
    {
        try
        {
            var msg = await _js.GetStreamAsync(Stream, cancellationToken: ct);
            var last = await msg.GetAsync(new StreamMsgGetRequest { LastBySubj = ShardMap.Subject(shard) }, ct);
            return (long)last.Message.Seq;
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404) { return 0; }
    }

    /// <summary>Each replica of the stream: its server name, whether it is current, and how far it lags.</summary>
    public async Task<List<(string Name, bool Current, ulong Lag)>> ReplicasAsync(CancellationToken ct = default)
    {
        var stream = await _js.GetStreamAsync(Stream, cancellationToken: ct);
        var c = stream.Info.Cluster;
        var list = new List<(string, bool, ulong)>();
        if (c?.Leader != null) list.Add((c.Leader, true, 0));
        foreach (var r in c?.Replicas ?? []) list.Add((r.Name, r.Current, r.Lag));
        return list;
    }

    /// <summary>A stored blob older than this is put again by an ingest that needs it (renewing its time for gc).</summary>
    public static readonly TimeSpan BlobRefreshAge = TimeSpan.FromHours(1);

    public async Task PutBlobAsync(string sha256, byte[] bytes, CancellationToken ct = default)
    {
        var store = await Blobs();
        // Content-addressed: stored once. An old copy is put again, which renews its time: gc deletes only unreferenced
        // blobs older than its grace period, so a blob this ingest relies on is never one gc may take (ClusterClient.Maintenance.cs).
        try { if (DateTimeOffset.UtcNow - (await store.GetInfoAsync(sha256, cancellationToken: ct)).MTime < BlobRefreshAge) return; }
        catch (NatsObjNotFoundException) { }
        await store.PutAsync(sha256, bytes, ct);
    }

    public async Task<byte[]> GetBlobAsync(string sha256, CancellationToken ct = default) => await (await Blobs()).GetBytesAsync(sha256, ct);

    /// <summary>Stores a shard's database file taken at <paramref name="sequence"/> (replaces the older one).</summary>
    public async Task PutSnapshotAsync(int shard, string file, long sequence, CancellationToken ct = default)
    {
        var store = await Snapshots();
        await using (var fs = File.OpenRead(file)) await store.PutAsync($"shard-{shard}.db", fs, cancellationToken: ct);
        await store.PutAsync($"shard-{shard}.seq", System.Text.Encoding.ASCII.GetBytes(sequence.ToString()), ct);
    }

    /// <summary>The latest snapshot of a shard written to <paramref name="file"/>, and its log sequence; 0 when there is none.</summary>
    public async Task<long> GetSnapshotAsync(int shard, string file, CancellationToken ct = default)
    {
        var store = await Snapshots();
        long seq;
        try { seq = long.Parse(System.Text.Encoding.ASCII.GetString(await store.GetBytesAsync($"shard-{shard}.seq", ct))); }
        catch (NatsObjNotFoundException) { return 0; }
        await using (var fs = File.Create(file)) await store.GetAsync($"shard-{shard}.db", fs, cancellationToken: ct);
        return seq;
    }

    public async ValueTask DisposeAsync() => await _nats.DisposeAsync();
}
