using System.Text.Json;
using Casebook.Model;
using Casebook.Search;
using Casebook.Storage;
using Microsoft.Extensions.Logging;

namespace Casebook.Cluster;

/// <summary>A virtual shard (key = shard number). Requests and answers travel as JSON of the engine's records.</summary>
public partial interface IShardGrain : IGrainWithIntegerKey
{
    /// <summary>Applies the shard's log up to at least <paramref name="sequence"/> (0: whatever the log holds now); answers the last applied sequence.</summary>
    Task<long> CatchUp(long sequence);
    Task<string> Statistics(string requestJson);
    Task<string> Lists(string requestJson);
    /// <summary>Live studies, applied sequence and the silo it runs on, as JSON.</summary>
    Task<string> Status();
    Task<long> Snapshot();
}

/// <summary>Where a silo keeps its shards' directories and how it reaches the log.</summary>
public sealed class ShardHostOptions
{
    public required string DataDirectory { get; init; }
    public required ClusterConfig Config { get; init; }
    public required string SiloName { get; init; }
}

/// <summary>
/// Owns one embedded Casebook database on its silo's disk. On activation it restores the latest snapshot from the
/// object store (unless its local copy is newer) and replays its log partition; it applies entries in log order, one
/// commit per batch whose message records the last sequence, so the applied sequence is exactly what is committed
/// (a crash between two commits re-applies nothing twice).
/// </summary>
// Hash placement spreads the shards over the silos (the default resource-optimised placement put all 64 on the
// silo that answered first, leaving the others idle).
[Orleans.Placement.HashBasedPlacement]
public sealed partial class ShardGrain(ShardHostOptions host, ClusterLog log, ILogger<ShardGrain> logger) : Grain, IShardGrain
{
    const string SequenceMessage = "cluster log seq ";
    CasebookDb? _db;
    long _applied, _snapshotAt;
    int Shard => (int)this.GetPrimaryKeyLong();
    string Directory => Path.Combine(host.DataDirectory, $"shard-{Shard}");

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        try { await Activate(ct); }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
        await base.OnActivateAsync(ct);
    }

    // NATS and SQLite exceptions have no Orleans codec: callers get the message in an exception that travels.
    static InvalidOperationException Portable(Exception e) => new($"{e.GetType().Name}: {e.Message}");

    async Task Activate(CancellationToken ct)
    {
        var local = File.Exists(Path.Combine(Directory, "casebook.db")) ? AppliedIn(Directory) : 0;
        var tmp = Path.Combine(host.DataDirectory, $"shard-{Shard}.restore.db");
        System.IO.Directory.CreateDirectory(host.DataDirectory);
        var snapshot = await log.GetSnapshotAsync(Shard, tmp, ct);
        if (snapshot > local)
        {
            // Restored elsewhere: the snapshot in shared storage is newer than anything on this disk.
            if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
            System.IO.Directory.CreateDirectory(Directory);
            File.Move(tmp, Path.Combine(Directory, "casebook.db"));
            logger.LogInformation("shard {Shard}: restored snapshot at sequence {Seq}", Shard, snapshot);
        }
        File.Delete(tmp);
        _db = CasebookDb.Open(Directory, new CasebookOptions { KeyFile = host.Config.KeyFile, Author = "cluster" });
        FetchMissingBlobs(); // a restored snapshot carries no blobs/ (ShardGrain.History.cs)
        _applied = _snapshotAt = Math.Max(local, snapshot);
        await Replay(0, ct);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        _db?.Dispose();
        _db = null;
        return Task.CompletedTask;
    }

    static long AppliedIn(string directory)
    {
        using var db = CasebookDb.Open(directory);
        return Applied(db);
    }

    static long Applied(CasebookDb db) => Math.Max(AppliedEntries(db.Directory), // commands and unchanged studies make no sequence version
        db.Versions().Select(v => v.Message.StartsWith(SequenceMessage, StringComparison.Ordinal) && long.TryParse(v.Message.AsSpan(SequenceMessage.Length), out var s) ? s : 0).DefaultIfEmpty(0).Max());

    async Task Replay(long target, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var batch = await log.ReadAsync(Shard, _applied, 128, ct);
            if (batch.Count > 0) await Apply(batch, ct);
            if (_applied >= target && batch.Count == 0) break;
            if (batch.Count == 0)
            {
                // The acknowledged entry is not visible to this consumer yet (a replica catching up): wait briefly.
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"shard {Shard}: log sequence {target} not readable after 60 s (applied {_applied})");
                await Task.Delay(100, ct);
            }
        }
        if (_applied - _snapshotAt >= host.Config.SnapshotEvery) await Snapshot();
    }

    // Studies, clinician changes and purges in log order (ShardGrain.Commands.cs).
    Task Apply(List<LogEntry> entries, CancellationToken ct) => ApplyEntries(entries, ct);

    /// <summary>A run of study entries: one commit whose version message records the last sequence.</summary>
    async Task ApplyStudies(List<LogEntry> entries, CancellationToken ct)
    {
        var db = _db!;
        // Binaries come from the object store by content hash (stored once per silo disk).
        foreach (var blob in entries.SelectMany(e => Blobs(e.Study)).DistinctBy(b => b.Sha256))
            if (!db.Blobs.Exists(blob.Sha256)) db.Blobs.Put(await log.GetBlobAsync(blob.Sha256, ct));
        var batch = new WriteBatch();
        // One commit per batch; a study twice in a batch keeps its later entry (log order wins).
        foreach (var e in entries.GroupBy(e => e.Study.StudyId).Select(g => g.Last()).OrderBy(e => e.Sequence)) { FollowTimeline(e.Study); batch.Upserts.Add(e.Study); }
        var last = entries[^1].Sequence;
        db.Commit(batch, SequenceMessage + last, "cluster");
        IndexDicomInstances(batch.Upserts); // DICOMweb's side table (ShardGrain.Images.cs)
        _applied = last;
    }

    internal static IEnumerable<BlobRef> Blobs(StudyRecord s) =>
        new[] { s.DicomImage, s.DictationAudio, s.ReportPdf }.Concat(s.Segments.Select(g => g.Blob)).OfType<BlobRef>();

    public async Task<long> CatchUp(long sequence)
    {
        try { await Replay(sequence, CancellationToken.None); }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
        return _applied;
    }

    public async Task<string> Statistics(string requestJson)
    {
        var request = JsonSerializer.Deserialize<ShardSearchRequest>(requestJson)!;
        try { return JsonSerializer.Serialize(ShardSearch.Statistics(_db!, await AtLogSeq(request))); }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public async Task<string> Lists(string requestJson)
    {
        var request = JsonSerializer.Deserialize<ShardSearchRequest>(requestJson)!;
        try { return JsonSerializer.Serialize(ShardSearch.Lists(_db!, await AtLogSeq(request))); }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public Task<string> Status() => Task.FromResult(JsonSerializer.Serialize(new ShardStatus(Shard, _db!.CountStudies(), _applied, _snapshotAt, host.SiloName)));

    public async Task<long> Snapshot()
    {
        // VACUUM INTO writes a consistent copy while readers go on; the copy goes to shared storage.
        var file = Path.Combine(host.DataDirectory, $"shard-{Shard}.snapshot.db");
        File.Delete(file);
        using (var c = CasebookDb.OpenConnection(CasebookDb.ConnectionStringFor(Directory)))
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "VACUUM INTO @f";
            cmd.Parameters.AddWithValue("@f", file);
            cmd.ExecuteNonQuery();
        }
        await log.PutSnapshotAsync(Shard, file, _applied);
        File.Delete(file);
        _snapshotAt = _applied;
        return _applied;
    }
}

public sealed record ShardStatus(int Shard, long Studies, long Applied, long SnapshotAt, string Silo);
