using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Cluster;

/// <summary>
/// Time travel, restore and export through the cluster. The cluster's version is a log sequence (the stream's sequence,
/// `stats --cluster` "version"); as of sequence S every shard reads its newest version whose log sequence is at most S
/// (ShardGrain.History.cs, docs/cluster.md "Time travel").
/// </summary>
public sealed partial class ClusterClient
{
    /// <summary>A log sequence the cluster has reached (0 = before anything), or the single node's "does not exist" error.</summary>
    public async Task<long> CheckLogSeqAsync(long logSeq, CancellationToken ct = default)
    {
        var last = await Log.LastLogSequenceAsync(ct);
        if (logSeq < 0 || logSeq > last) throw new ArgumentException($"log sequence {logSeq} does not exist (the cluster's log is at 0..{last}; see `versions --cluster F --json`, key log_seq)");
        return logSeq;
    }

    /// <summary>The study as it was at log sequence <paramref name="logSeq"/>, or null when no shard held it then.</summary>
    public async Task<StudyRecord?> GetStudyAsOfAsync(string studyId, long logSeq, CancellationToken ct = default)
    {
        await CheckLogSeqAsync(logSeq, ct);
        var answers = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).StudyAsOf(studyId, logSeq))), ct);
        return answers.FirstOrDefault(a => a != null) is { } json ? JsonSerializer.Deserialize<StudyRecord>(json, ClusterLog.RecordJson) : null;
    }

    /// <summary>
    /// `restore S --cluster`: every shard appends a restore entry naming S to its partition and applies it (so a replay of the
    /// log, or a shard rebuilt elsewhere, makes the same change). The single node's JSON: "version" is the log sequence of the
    /// last restore entry that changed something (null when nothing changed), "restored" is S, "changed" the studies changed over all shards.
    /// </summary>
    public async Task<JsonObject> RestoreAsync(long logSeq, string author, CancellationToken ct = default)
    {
        await CheckLogSeqAsync(logSeq, ct);
        // Not retried blindly: a timed-out call may still have appended (the shard goes on); the caller sees the error.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(async n =>
            JsonSerializer.Deserialize<ClusterCommandOutcome>(await Shard(n).RestoreLog(logSeq, author))!));
        var failed = outcomes.FirstOrDefault(o => o.Error != null);
        if (failed != null) throw failed.Error == "invalid" ? new ArgumentException(failed.Message) : new InvalidOperationException(failed.Message);
        var changed = outcomes.Sum(o => o.Ok!["changed"]!.GetValue<int>());
        long? version = changed > 0 ? outcomes.Where(o => o.Ok!["changed"]!.GetValue<int>() > 0).Max(o => o.Ok!["log_seq"]!.GetValue<long>()) : null;
        return new JsonObject { ["version"] = version, ["restored"] = logSeq, ["changed"] = changed };
    }

    /// <summary>
    /// Every study as of <paramref name="logSeq"/> (null: now), in study_id order as one node's <see cref="CasebookDb.Studies"/>:
    /// pages from every shard merged as they are read, so a large table is never held whole. Synchronous for the exporter.
    /// </summary>
    public IEnumerable<StudyRecord> StudiesForExport(long? logSeq, int pageSize = 64)
    {
        if (logSeq is { } s) CheckLogSeqAsync(s).GetAwaiter().GetResult();
        var pages = Enumerable.Range(0, Config.Shards).Select(_ => new Queue<StudyRecord>()).ToArray();
        var done = new bool[Config.Shards];
        var after = new string?[Config.Shards];
        void Fill(int n)
        {
            if (done[n] || pages[n].Count > 0) return;
            var json = Retry(() => Shard(n).ExportPage(logSeq, after[n], pageSize), CancellationToken.None).GetAwaiter().GetResult();
            var page = JsonSerializer.Deserialize<List<StudyRecord>>(json, ClusterLog.RecordJson)!;
            foreach (var st in page) pages[n].Enqueue(st);
            if (page.Count < pageSize) done[n] = true;
            if (page.Count > 0) after[n] = page[^1].StudyId;
        }
        while (true)
        {
            var best = -1;
            for (var n = 0; n < pages.Length; n++)
            {
                Fill(n);
                // SQLite orders study_id by its bytes (UTF-8): the same order as ordinal comparison of these ids.
                if (pages[n].Count > 0 && (best < 0 || string.CompareOrdinal(pages[n].Peek().StudyId, pages[best].Peek().StudyId) < 0)) best = n;
            }
            if (best < 0) yield break;
            yield return pages[best].Dequeue();
        }
    }

    /// <summary>A blob's bytes from the object store by content hash (what an export writes for a study of any shard).</summary>
    public byte[] ReadBlob(BlobRef blob) => Log.GetBlobAsync(blob.Sha256).GetAwaiter().GetResult();
}
