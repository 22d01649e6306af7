using System.Diagnostics;
using System.Text.Json;
using Casebook.Ingest;
using Casebook.Search;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Casebook.Cluster;

/// <summary>What an ingest through the cluster did.</summary>
public sealed record ClusterIngestResult(int Found, int Appended, int Unchanged, IReadOnlyList<IngestError> Errors, IReadOnlyDictionary<int, long> Applied);

/// <summary>
/// The coordinator: an Orleans client plus the log. Ingest appends to the log and waits until every shard it touched
/// has applied its entries; search scatters to all shards and gathers with the single-node fusion.
/// </summary>
public sealed partial class ClusterClient : IAsyncDisposable
{
    readonly IHost _host;
    public ClusterConfig Config { get; }
    public ClusterLog Log { get; }
    public IClusterClient Orleans { get; }

    ClusterClient(ClusterConfig config, IHost host, ClusterLog log)
    {
        Config = config; _host = host; Log = log;
        Orleans = host.Services.GetRequiredService<IClusterClient>();
    }

    public static async Task<ClusterClient> ConnectAsync(ClusterConfig config, CancellationToken ct = default)
    {
        var log = new ClusterLog(config);
        await log.EnsureAsync(TimeSpan.FromSeconds(60), ct);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => ClusterTls.Redis(o, config));
            if (config.Tls is { } tls) client.UseTls(o => ClusterTls.Orleans(o, tls));
            client.Configure<ClusterOptions>(Membership.Configure);
            // A call stranded on a killed silo fails after this and is retried on the shard's new activation; a long
            // CatchUp that times out is simply re-issued (the grain goes on applying meanwhile).
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        var host = builder.Build();
        await host.StartAsync(ct);
        return new ClusterClient(config, host, log);
    }

    /// <summary>Waits until <paramref name="silos"/> silos are active members (shards activated earlier would all land on the first one).</summary>
    public async Task WaitForSilosAsync(int silos, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await Orleans.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count < silos)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"fewer than {silos} silos joined the cluster in {timeout.TotalSeconds:0} s");
            await Task.Delay(250);
        }
        // The answer above is one silo's view. Placement runs on whichever silo receives an activation, with its own
        // view, which it refreshes from the membership table every TableRefreshTimeout: wait two refreshes so every
        // silo sees all N (without this, a bench run once placed all 64 shards on the first of 2 silos).
        await Task.Delay(TimeSpan.FromSeconds(5));
    }

    IShardGrain Shard(int n) => Orleans.GetGrain<IShardGrain>(n);

    /// <summary>Every shard's status (activates every shard: restores and replays as needed).</summary>
    public async Task<List<ShardStatus>> StatusAsync()
    {
        var all = await Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).Status()));
        return all.Select(s => JsonSerializer.Deserialize<ShardStatus>(s)!).ToList();
    }

    /// <summary>
    /// Ingest: the pipeline runs here (the client) into a staging directory with the deployment's key file, so
    /// pseudonyms, date shifts and UIDs are the ones every node uses; each built study is then appended to its shard's
    /// partition (binaries to the object store first) and the call returns once every touched shard applied it.
    /// </summary>
    public async Task<ClusterIngestResult> IngestAsync(IReadOnlyList<string> paths, IngestOptions? options = null, CancellationToken ct = default)
    {
        var staging = Path.Combine(Path.GetTempPath(), "casebook-staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            var dbOptions = new CasebookOptions { KeyFile = Config.KeyFile };
            // Workers (Workers/): with worker processes in the cluster, OCR, ASR and embedding run on them; the rest of
            // the pipeline runs here unchanged, so studies are built exactly as on one node.
            await using var remote = Config.Nodes.Any(n => n.Role == "worker") ? await Workers.RemoteStages.ConnectAsync(Config, ct) : null;
            remote?.Attach(dbOptions, options ??= new IngestOptions(), paths);
            using var db = CasebookDb.Open(staging, dbOptions);
            var result = db.Ingest(paths, options);
            var targets = new Dictionary<int, long>();
            var appended = 0;
            await AppendPatientEventsAsync(db, targets, dbOptions.Author, ct); // FHIR events first, as one node commits them (ClusterClient.Events.cs)
            foreach (var study in db.Studies())
            {
                foreach (var blob in ShardGrain.Blobs(study).DistinctBy(b => b.Sha256))
                    await Log.PutBlobAsync(blob.Sha256, db.ReadBlob(blob), ct);
                var shard = ShardMap.ShardOf(study.PatientPseudoId, Config.Shards);
                var seq = await Log.AppendAsync(shard, study, ct);
                targets[shard] = Math.Max(targets.GetValueOrDefault(shard), seq);
                appended++;
            }
            var applied = new Dictionary<int, long>();
            await Task.WhenAll(targets.Select(async t => applied[t.Key] = await CatchUpAsync(t.Key, t.Value, ct)));
            return new ClusterIngestResult(result.Found, appended, result.Unchanged, result.Errors, applied);
        }
        finally { try { Directory.Delete(staging, recursive: true); } catch (IOException) { } }
    }

    /// <summary>Waits until a shard applied <paramref name="sequence"/>; retries while its silo is being declared dead and the shard moves.</summary>
    async Task<long> CatchUpAsync(int shard, long sequence, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try { return await Shard(shard).CatchUp(sequence); }
            catch (Exception e) when (e is not OperationCanceledException && DateTime.UtcNow < deadline) { await Task.Delay(500, ct); }
        }
    }

    /// <summary>
    /// Scatter-gather search. Round one sums every shard's BM25 statistics and moves the query vector toward the global
    /// best dense hits; round two asks every shard for its lists scored with the global statistics and the moved vector;
    /// the coordinator merges and fuses them like one node.
    /// </summary>
    public async Task<SearchResult> SearchAsync(ShardSearchRequest request, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        if (request.Text == null && request.QueryVector == null && request.ImageVector == null) throw new ArgumentException("a cluster search needs text, an image, or both");
        // A bad filter is the caller's error: report it here (FilterSyntaxException, with position) before scattering.
        if (request.Filter != null) Casebook.Search.Filtering.FilterCompiler.Compile(request.Filter);
        // As of a log sequence (ClusterClient.History.cs): one node reading an older version scans stored vectors, no feedback.
        if (request.AsOfLogSeq is { } asOf) { await CheckLogSeqAsync(asOf, ct); request = request with { FeedbackDocs = 0 }; }
        var shards = Enumerable.Range(0, Config.Shards).ToList();
        if (request.Text != null && request.Mode != SearchMode.Bm25 && request.QueryVector == null)
            request = request with { QueryVector = Casebook.Embed.EmbedderCache.Text(null).Embed([request.Text])[0] }; // embedded once, not per shard
        // Round one: BM25 statistics and each shard's best dense hits (global pseudo-relevance feedback).
        var json = JsonSerializer.Serialize(request);
        var stats = (await Retry(() => Task.WhenAll(shards.Select(n => Shard(n).Statistics(json))), ct)).Select(s => JsonSerializer.Deserialize<ShardStats>(s)!).ToList();
        if (request.Text != null && request.Mode != SearchMode.Dense)
            request = request with { Global = new ShardStats(FtsStats.Sum(stats.Select(s => s.Studies)), FtsStats.Sum(stats.Select(s => s.Segments))) };
        request = ShardSearch.WithFeedback(request, stats);
        var body = JsonSerializer.Serialize(request);
        var lists = await Retry(() => Task.WhenAll(shards.Select(n => Shard(n).Lists(body))), ct);
        return ShardSearch.Merge(request, lists.Select(l => JsonSerializer.Deserialize<List<ShardList>>(l)!), clock);
    }

    // A query that meets a dead silo waits for the cluster to declare it dead and re-activate its shards elsewhere.
    static async Task<T> Retry<T>(Func<Task<T>> call, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try { return await call(); }
            catch (Exception e) when (e is not OperationCanceledException && e is not ArgumentException && DateTime.UtcNow < deadline) { await Task.Delay(500, ct); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _host.StopAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
        _host.Dispose();
        await Log.DisposeAsync();
    }
}
