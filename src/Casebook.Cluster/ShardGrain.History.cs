using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Search;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>The study as it was at log sequence <paramref name="logSeq"/> (the record JSON), or null when this shard did not hold it then.</summary>
    Task<string?> StudyAsOf(string studyId, long logSeq);

    /// <summary>At most <paramref name="limit"/> studies (record JSON array, study_id order) after <paramref name="afterStudyId"/>,
    /// as of log sequence <paramref name="logSeq"/> (null: now): one page of a cluster export.</summary>
    [ResponseTimeout("00:01:00")]
    Task<string> ExportPage(long? logSeq, string? afterStudyId, int limit);

    /// <summary>Appends a restore entry (log sequence <paramref name="logSeq"/> made current again) to this shard's partition and
    /// applies it; answers the outcome (ok: version, restored, changed, shard_version_restored, log_seq of the entry) as JSON.</summary>
    [ResponseTimeout("00:02:00")]
    Task<string> RestoreLog(long logSeq, string author);
}

/// <summary>
/// Time travel on a shard. The cluster's version is a log sequence: every version of a shard maps to the sequence of the last
/// log entry it applied (docs/cluster.md, "Time travel"). Study commits say it in their message ("cluster log seq N"); a
/// clinician change, purge or restore is one entry whose version is recorded in <c>cluster_versions</c>. As of sequence S, a
/// shard reads its newest version whose sequence is at most S (version 0, empty, when it had none yet).
/// </summary>
public sealed partial class ShardGrain
{
    public const string RestoreCommand = "restore";

    const string VersionsTable = "CREATE TABLE IF NOT EXISTS cluster_versions(version INTEGER PRIMARY KEY, seq INTEGER NOT NULL)";

    /// <summary>Records which log entry a command's version came from (called once the entry is applied).</summary>
    void RecordVersion(long seq, ClusterCommandOutcome outcome)
    {
        if (outcome.Ok?["version"] is not JsonValue v || !v.TryGetValue<long>(out var version)) return;
        using var c = Side(Directory);
        Exec(c, VersionsTable);
        Exec(c, "INSERT OR REPLACE INTO cluster_versions(version, seq) VALUES (@v, @q)", ("@v", version), ("@q", seq));
    }

    /// <summary>
    /// Every version of this shard with its log sequence, in version order. A version with neither a sequence message nor a
    /// recorded entry (a command whose record was lost to a crash between its commit and the record, or a purge taken into a
    /// snapshot before its record) takes the sequence of the next known version, or the applied sequence: never earlier than
    /// the entry that made it, so an as-of read never shows a change before it happened.
    /// </summary>
    List<(long Version, long Seq)> VersionSeqs()
    {
        var recorded = new Dictionary<long, long>();
        using (var c = Side(Directory))
        {
            Exec(c, VersionsTable);
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT version, seq FROM cluster_versions";
            using var r = cmd.ExecuteReader();
            while (r.Read()) recorded[r.GetInt64(0)] = r.GetInt64(1);
        }
        var list = _db!.Versions().Select(v => (v.Version, Seq: recorded.TryGetValue(v.Version, out var s) ? s
            : v.Message.StartsWith(SequenceMessage, StringComparison.Ordinal) && long.TryParse(v.Message.AsSpan(SequenceMessage.Length), out var m) ? m : -1)).ToList();
        var next = _applied;
        for (var i = list.Count - 1; i >= 0; i--)
            if (list[i].Seq < 0) list[i] = (list[i].Version, next);
            else next = list[i].Seq;
        return list;
    }

    /// <summary>The shard version that is the state as of log sequence <paramref name="logSeq"/>, with that version's sequence (0, 0: empty).</summary>
    (long Version, long Seq) VersionAt(long logSeq)
    {
        if (logSeq < 0) throw new ArgumentException($"log sequence {logSeq} does not exist");
        var at = (0L, 0L);
        foreach (var v in VersionSeqs()) if (v.Seq <= logSeq) at = v; else break;
        return at;
    }

    /// <summary>A search request with the cluster's as-of resolved to this shard's version (entries already in the log applied first).</summary>
    async Task<ShardSearchRequest> AtLogSeq(ShardSearchRequest request)
    {
        if (request.AsOfLogSeq is not { } s) return request;
        if (s > _applied) await Replay(0, CancellationToken.None);
        return request with { AsOfVersion = VersionAt(s).Version };
    }

    public async Task<string?> StudyAsOf(string studyId, long logSeq)
    {
        try
        {
            if (logSeq > _applied) await Replay(0, CancellationToken.None);
            var study = _db!.GetStudy(studyId, VersionAt(logSeq).Version);
            return study == null ? null : JsonSerializer.Serialize(study, ClusterLog.RecordJson);
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public async Task<string> ExportPage(long? logSeq, string? afterStudyId, int limit)
    {
        try
        {
            if (afterStudyId == null) await Replay(0, CancellationToken.None); // the first page sees every entry already in the log
            long? version = logSeq is { } s ? VersionAt(s).Version : null;
            return JsonSerializer.Serialize(_db!.StudiesPage(version, afterStudyId, limit), ClusterLog.RecordJson);
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public async Task<string> RestoreLog(long logSeq, string author)
    {
        var c = new ClusterCommand
        {
            Command = RestoreCommand, Author = author, Time = ClusterCommand.NowTime(), Args = new JsonObject { ["log_seq"] = logSeq },
        };
        try
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                await Replay(0, CancellationToken.None);
                var seq = await log.AppendCommandAsync(Shard, c, _applied);
                if (seq == null) continue;
                await Replay(seq.Value, CancellationToken.None);
                return JsonSerializer.Serialize(_outcomes.GetValueOrDefault(seq.Value) ?? new ClusterCommandOutcome(null, "unknown", $"log entry {seq} was applied but its outcome is not known here"));
            }
            throw new TimeoutException($"shard {Shard}: the partition kept moving; the restore was not appended");
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    /// <summary>
    /// Applies a restore entry: the state as of log sequence S becomes current as a new version (as one node's restore: studies
    /// that differ are re-inserted from their old rows, studies added since are closed). That state is the newest version at or
    /// before S plus this shard's study entries between that version's sequence and S: a shard rebuilt from the log commits in
    /// larger batches, so it may have no version exactly at S, and the entries in between are read back from the log. The same
    /// entry therefore gives the same state on the shard that appended it and on any replay.
    /// </summary>
    async Task<ClusterCommandOutcome> ApplyRestore(long seq, ClusterCommand c, CancellationToken ct)
    {
        var db = _db!;
        var target = c.Args["log_seq"] is JsonValue t && t.TryGetValue<long>(out var s) ? s : throw new ArgumentException("the restore names no log sequence");
        if (target < 0 || target >= seq) throw new ArgumentException($"log sequence {target} is not before the restore (entry {seq})");
        var (version, from) = VersionAt(target);
        var then = db.Studies(version).ToDictionary(x => x.StudyId, StringComparer.Ordinal);
        for (var after = from; after < target;)
        {
            var entries = await log.ReadAsync(Shard, after, 128, ct);
            if (entries.Count == 0) break;
            foreach (var e in entries.Where(e => e.Sequence <= target && e.Command == null))
            {
                foreach (var blob in Blobs(e.Study).DistinctBy(b => b.Sha256))
                    if (!db.Blobs.Exists(blob.Sha256)) db.Blobs.Put(await log.GetBlobAsync(blob.Sha256, ct));
                then[e.Study.StudyId] = e.Study;
            }
            after = entries[^1].Sequence;
        }
        var batch = new WriteBatch();
        batch.Upserts.AddRange(then.Values.OrderBy(x => x.StudyId, StringComparer.Ordinal)); // unchanged ones are skipped by content hash
        foreach (var now in db.Studies(withSegments: false)) if (!then.ContainsKey(now.StudyId)) batch.Deletes.Add(now.StudyId);
        var r = db.Commit(batch, $"restore cluster log seq {target}", c.Author);
        return new ClusterCommandOutcome(new JsonObject
        {
            ["version"] = r.Version, ["restored"] = target, ["changed"] = r.Inserted + r.Updated + r.Deleted, ["shard_version_restored"] = version, ["log_seq"] = seq,
        });
    }

    /// <summary>A blob this shard's files lack (a shard restored from a snapshot, which carries the database but not blobs/) is
    /// fetched from the object store by content hash when something reads it, and kept.</summary>
    // The engine reads blobs synchronously, on the grain's single-threaded scheduler: the fetch runs on the thread pool, or
    // its continuations would queue behind the blocked grain thread and never run (a suggestion on a restored shard hung so).
    void FetchMissingBlobs() => _db!.Blobs.Missing = sha => Task.Run(() => log.GetBlobAsync(sha)).GetAwaiter().GetResult();
}
