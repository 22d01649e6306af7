using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook.Cluster;

/// <summary>What `gc --cluster` did: blobs deleted from the object store, blobs the shards removed from their blobs/ directories.</summary>
public sealed record ClusterGcResult(int BlobsRemoved, int ShardBlobsRemoved, int BlobsKept, double GraceSeconds)
{
    /// <summary>`gc --json`: the single node's key (blobs_removed = the deployment's blobs, here the object store's) and the cluster's own.</summary>
    public JsonObject ToJson() => new()
    {
        ["blobs_removed"] = BlobsRemoved, ["shard_blobs_removed"] = ShardBlobsRemoved, ["blobs_kept"] = BlobsKept, ["grace_s"] = GraceSeconds,
    };
}

/// <summary>
/// Maintenance through the cluster: garbage collection of the object store and the shards' blob directories, and re-embedding.
/// </summary>
public sealed partial class ClusterClient
{
    /// <summary>gc's default grace period: equal to <see cref="ClusterLog.BlobRefreshAge"/>, which is what makes gc safe beside an ingest.</summary>
    public static readonly TimeSpan DefaultGcGrace = ClusterLog.BlobRefreshAge;

    /// <summary>
    /// Removes object-store blobs that nothing references, and has every shard collect its local blobs/ directory.
    /// Referenced = what any version of any study in any shard uses (each shard first applies its whole partition), plus
    /// what entries appended after a shard answered use (read from the log itself). Snapshots are older states of the
    /// shards, whose versions are kept, so they reference nothing more. Concurrent ingest: an ingest puts a study's blobs
    /// and then appends its entry, so a blob can be unreferenced for a moment; only blobs last put more than
    /// <paramref name="grace"/> before gc started are deleted, and an ingest puts an existing blob again when it is older
    /// than <see cref="ClusterLog.BlobRefreshAge"/> (renewing its time), so with grace ≥ that age no blob an ingest relies
    /// on is deleted. A shorter grace (tests, a quiet cluster) is safe only when no ingest runs.
    /// </summary>
    public async Task<ClusterGcResult> CollectGarbageAsync(TimeSpan? grace = null, CancellationToken ct = default)
    {
        var g = grace ?? DefaultGcGrace;
        if (g < TimeSpan.Zero) throw new ArgumentException("the grace period cannot be negative");
        var cutoff = DateTimeOffset.UtcNow - g;
        var answers = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).CollectGarbage())), ct);
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var shardRemoved = 0;
        for (var n = 0; n < answers.Length; n++)
        {
            var a = JsonNode.Parse(answers[n])!;
            shardRemoved += a["removed"]!.GetValue<int>();
            foreach (var s in a["referenced"]!.AsArray()) referenced.Add(s!.GetValue<string>());
            // Entries appended since the shard answered (an ingest running now): the log itself names their blobs.
            for (var after = a["applied"]!.GetValue<long>(); ;)
            {
                var tail = await Log.ReadAsync(n, after, 256, ct);
                if (tail.Count == 0) break;
                foreach (var e in tail.Where(e => e.Study != null)) foreach (var b in ShardGrain.Blobs(e.Study)) referenced.Add(b.Sha256);
                foreach (var e in tail.Where(e => e.Command?.Command == ClusterCodes.Kind)) if (e.Command!.Arg("sha256") is { } sha) referenced.Add(sha);
                after = tail[^1].Sequence;
            }
        }
        var stored = await Log.ListBlobsAsync(ct);
        var removed = 0;
        foreach (var blob in stored.Where(b => !referenced.Contains(b.Sha256) && b.Modified < cutoff))
        {
            // Re-read just before deleting: an ingest may have put it again since the listing.
            if (await Log.BlobModifiedAsync(blob.Sha256, ct) is not { } modified || modified >= cutoff) continue;
            if (await Log.DeleteBlobAsync(blob.Sha256, ct)) removed++;
        }
        return new ClusterGcResult(removed, shardRemoved, stored.Count - removed, g.TotalSeconds);
    }

    /// <summary>The object-store blobs a study record names (DICOM, audio, PDF, segment images).</summary>
    public static IEnumerable<BlobRef> BlobsOf(StudyRecord study) => ShardGrain.Blobs(study);

    /// <summary>Every live study of one shard, whole (segments and vectors), paged.</summary>
    public async IAsyncEnumerable<StudyRecord> LiveStudiesAsync(int shard, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        const int Page = 64;
        for (var skip = 0; ; skip += Page)
        {
            var json = await Retry(() => Shard(shard).LiveStudies(skip, Page), ct);
            var page = JsonSerializer.Deserialize<List<StudyRecord>>(json, ClusterLog.RecordJson)!;
            foreach (var s in page) yield return s;
            if (page.Count < Page) yield break;
        }
    }
}

/// <summary>What `reembed --cluster` did: the model, the studies whose vectors changed, and each touched shard's applied sequence.</summary>
public sealed record ClusterReembedResult(string Kind, string Model, int Studies, IReadOnlyDictionary<int, long> Applied);

public sealed partial class ClusterClient
{
    /// <summary>
    /// Re-embedding through the log: the coordinator reads every shard's live studies, re-embeds them as one node does
    /// (<see cref="CasebookDb.Reembed"/> on a staging database with the given model configuration; on the workers when the
    /// cluster has them) and appends each changed study as a new entry of its shard's partition. The entries carry the new
    /// vectors and model ids, so a replay (a rebuilt shard, a restored snapshot) reproduces the re-embedding exactly; a study
    /// already embedded by the configured model is not appended (one node makes no version for it either).
    /// </summary>
    public async Task<ClusterReembedResult> ReembedAsync(string kind, string? modelConfig = null, CancellationToken ct = default)
    {
        if (kind is not ("text" or "image")) throw new ArgumentException($"kind must be 'text' or 'image', not '{kind}'");
        var applied = new Dictionary<int, long>();
        var studies = 0;
        var model = kind == "text" ? Casebook.Embed.EmbedderCache.Text(modelConfig).Model.Id : Casebook.Embed.EmbedderCache.Image(modelConfig).Model.Id;
        await using var remote = Config.Nodes.Any(n => n.Role == "worker") ? await Workers.RemoteStages.ConnectAsync(Config, ct) : null;
        for (var shard = 0; shard < Config.Shards; shard++)
        {
            var staging = Path.Combine(Path.GetTempPath(), "casebook-reembed-" + Guid.NewGuid().ToString("N"));
            try
            {
                var options = new CasebookOptions { KeyFile = Config.KeyFile, ModelConfig = modelConfig, Author = "cluster" };
                remote?.Attach(options, new Casebook.Ingest.IngestOptions(), []);
                using var db = CasebookDb.Open(staging, options);
                var before = new Dictionary<string, string>();
                var batch = new WriteBatch();
                await foreach (var s in LiveStudiesAsync(shard, ct))
                {
                    // Image re-embedding reads the slices: their binaries come from the object store.
                    if (kind == "image")
                        foreach (var g in s.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.Blob != null))
                            if (!db.Blobs.Exists(g.Blob!.Sha256)) db.Blobs.Put(await Log.GetBlobAsync(g.Blob.Sha256, ct));
                    before[s.StudyId] = Models(s, kind);
                    batch.Upserts.Add(s);
                }
                if (batch.IsEmpty) continue;
                db.Commit(batch, "staging", "cluster");
                db.Reembed(kind);
                long last = 0;
                foreach (var id in before.Keys)
                {
                    var s = db.GetStudy(id)!;
                    if (Models(s, kind) == before[id]) continue;
                    last = await Log.AppendAsync(shard, s, ct);
                    studies++;
                }
                if (last > 0) applied[shard] = await CatchUpAsync(shard, last, ct);
            }
            finally { try { Directory.Delete(staging, recursive: true); } catch (IOException) { } }
        }
        return new ClusterReembedResult(kind, model, studies, applied);
    }

    /// <summary>Which model made each vector of the kind (the fields Reembed changes).</summary>
    static string Models(StudyRecord s, string kind) => string.Join("|", s.Segments.OrderBy(g => g.SegmentId, StringComparer.Ordinal)
        .Select(g => kind == "text" ? g.TextModel : g.ImageModel));
}
