using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Search;
using Casebook.Timeline;
using Casebook.Validation;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>
    /// A clinician change or a purge, owned by this shard: checked against the shard's current state (study exists, base
    /// version not stale), appended to the log only if nothing was appended since that check, applied, and answered with
    /// the single-node result (<see cref="ClusterCommandOutcome"/> as JSON).
    /// </summary>
    [ResponseTimeout("00:02:00")] // a purge erases entries and blobs and writes a snapshot: longer than a read
    Task<string> Write(string commandJson);

    /// <summary>A read about one study (op: has, study, history, rows, timeline, outcomes, regions, similar_text, patient_studies);
    /// null when the study is not in this shard.</summary>
    Task<string?> StudyQuery(string requestJson);

    /// <summary>Which of these blobs any version of any study in this shard references (a purge deletes only the others).</summary>
    [AlwaysInterleave]
    Task<string[]> ReferencedBlobs(string[] sha256);

    /// <summary>This shard's versions as JSON (the `versions --json` items).</summary>
    Task<string> VersionList();

    /// <summary>Drops the shard's local database and replays its whole partition from the log (no snapshot), then snapshots:
    /// the log alone rebuilds the shard. Answers the last applied sequence.</summary>
    [ResponseTimeout("00:05:00")]
    Task<long> Rebuild();

    /// <summary>This shard's `stats --json` counts (engine <see cref="CasebookDb.Stats"/>) as JSON.</summary>
    Task<string> StatsJson();
}

/// <summary>
/// Commands in the log. Every applied entry is recorded in <c>cluster_entries</c> (sequence, kind, study, patient) inside the
/// shard's database: the applied sequence survives a restart even when an entry made no version, and a purge knows the
/// sequences of the patient's entries, which it erases from the stream. Re-applying an entry after a crash changes nothing:
/// studies by content hash, validation actions because they carry the clinician's time (same stamp, same content), regions by
/// (time, author, slice, label), purges because there is nothing left to erase.
/// </summary>
public sealed partial class ShardGrain
{
    const string EntriesTable = """
        CREATE TABLE IF NOT EXISTS cluster_entries(
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            study_id TEXT,
            patient_pseudo_id TEXT);
        CREATE INDEX IF NOT EXISTS cluster_entries_patient ON cluster_entries(patient_pseudo_id);
        CREATE INDEX IF NOT EXISTS cluster_entries_study ON cluster_entries(study_id);
        """;

    /// <summary>Outcomes of commands applied by this activation, for the Write call that appended them.</summary>
    readonly Dictionary<long, ClusterCommandOutcome> _outcomes = new();

    static SqliteConnection Side(string directory)
    {
        var c = CasebookDb.OpenConnection(CasebookDb.ConnectionStringFor(directory));
        using var cmd = c.CreateCommand();
        cmd.CommandText = EntriesTable;
        cmd.ExecuteNonQuery();
        return c;
    }

    static long AppliedEntries(string directory)
    {
        using var c = Side(directory);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM cluster_entries";
        return (long)cmd.ExecuteScalar()!;
    }

    void Record(IEnumerable<(long Seq, string Kind, string? Study, string? Patient)> rows)
    {
        using var c = Side(Directory);
        using var tx = c.BeginTransaction();
        foreach (var (seq, kind, study, patient) in rows)
        {
            using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR REPLACE INTO cluster_entries(seq, kind, study_id, patient_pseudo_id) VALUES (@q, @k, @s, @p)";
            cmd.Parameters.AddWithValue("@q", seq);
            cmd.Parameters.AddWithValue("@k", kind);
            cmd.Parameters.AddWithValue("@s", (object?)study ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@p", (object?)patient ?? DBNull.Value);
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    async Task ApplyEntries(List<LogEntry> entries, CancellationToken ct)
    {
        var run = new List<LogEntry>();
        async Task Flush()
        {
            if (run.Count == 0) return;
            await ApplyStudies(run, ct);
            Record(run.Select(e => (e.Sequence, "study", (string?)e.Study.StudyId, (string?)e.Study.PatientPseudoId)));
            run.Clear();
        }
        foreach (var e in entries)
        {
            if (e.Command == null) { run.Add(e); continue; }
            await Flush();
            if (e.Command.Command == ClusterEvents.Kind) { ApplyEvents(e.Sequence, e.Command); continue; } // ShardGrain.Events.cs
            if (e.Command.Command == ClusterFindings.SuggestKind) { await ApplySuggest(e.Sequence, e.Command, ct); continue; } // ShardGrain.Findings.cs
            if (e.Command.Command == ClusterCodes.Kind) { await ApplyCodes(e.Sequence, e.Command, ct); continue; } // ShardGrain.Codes.cs
            await ApplyCommand(e.Sequence, e.Command, ct);
        }
        await Flush();
    }

    async Task ApplyCommand(long seq, ClusterCommand c, CancellationToken ct)
    {
        var db = _db!;
        var patient = c.PatientPseudoId ?? (c.StudyId != null ? db.GetStudy(c.StudyId, withSegments: false)?.PatientPseudoId : null);
        if (c.Command == ClusterCommand.Region && c.StudyId != null) await FetchMissingBlobs(c.StudyId, ct); // the crop reads its slice (ShardGrain.Images.cs)
        ClusterCommandOutcome outcome;
        try
        {
            outcome = c.IsPurge ? await Purge(seq, c, ct) : c.Command == RestoreCommand ? await ApplyRestore(seq, c, ct) : new ClusterCommandOutcome(Validate(db, c));
        }
        catch (ValidationConflictException e) { outcome = new ClusterCommandOutcome(null, "conflict", e.Message, e.CurrentVersion); }
        catch (UnauthorizedAccessException e) { outcome = new ClusterCommandOutcome(null, "forbidden", e.Message); }
        catch (ArgumentException e) { outcome = new ClusterCommandOutcome(null, "invalid", e.Message); }
        // "already has this …: nothing changed": a re-applied entry, or a repeated action (the single node's message).
        catch (InvalidOperationException e) when (e.Message.Contains("nothing changed")) { outcome = new ClusterCommandOutcome(null, "unchanged", e.Message); }
        RecordVersion(seq, outcome); // the version this entry made, for as-of reads (ShardGrain.History.cs)
        if (outcome.Error != null) logger.LogInformation("shard {Shard}: log entry {Seq} ({Command}) not applied: {Message}", Shard, seq, c.Command, outcome.Message);
        _applied = seq;
        // A purge already recorded itself (before its fresh snapshot); other commands are recorded here.
        if (!c.IsPurge) Record([(seq, c.Command, c.StudyId, patient)]);
        if (_outcomes.Count > 1024) _outcomes.Clear();
        _outcomes[seq] = outcome;
    }

    /// <summary>The single-node engine call with the base version already checked (before the append): the study's state
    /// here is the one the check saw, so the change applies as the clinician made it, stamped with their time.</summary>
    static JsonObject Validate(CasebookDb db, ClusterCommand c)
    {
        var id = c.StudyId ?? throw new ArgumentException("the command names no study");
        string Need(string name) => c.Arg(name) ?? throw new ArgumentException($"--{name} is required");
        var current = db.CurrentVersion;
        ValidationResult r;
        switch (c.Command)
        {
            case ClusterCommand.ValidateFinding:
                var edit = new FindingEdit(c.Arg("edit_term"), c.Arg("edit_laterality"), c.Arg("edit_code"));
                r = db.ValidateFinding(id, Need("finding"), Need("status"), c.Who, current, edit.IsEmpty ? null : edit);
                break;
            case ClusterCommand.Diagnose:
                r = db.SetDiagnosis(id, Need("code"), Need("system"), Need("status"), c.Who, current, c.Arg("display"));
                break;
            case ClusterCommand.Region:
                var label = Need("label");
                var slice = Need("slice");
                var existing = db.GetStudy(id, withSegments: false)?.ImageRegions.OfType<JsonObject>().FirstOrDefault(g =>
                    g["time"]?.GetValue<string>() == c.Time && g["author"]?.GetValue<string>() == c.Author && g["slice"]?.GetValue<string>() == slice && g["label"]?.GetValue<string>() == label.Trim());
                if (existing != null) throw new InvalidOperationException($"study '{id}' already has this region: nothing changed, no version made");
                r = c.Arg("polygon") is { } polygon
                    ? db.AddRegion(id, slice, RegionBox.ParsePolygon(polygon).Points, label, c.Who, current)
                    : db.AddRegion(id, slice, RegionBox.Parse(Need("box")), label, c.Who, current);
                break;
            default: throw new ArgumentException($"unknown command '{c.Command}'");
        }
        return new JsonObject { ["study_id"] = r.StudyId, ["version"] = r.Version, ["action"] = r.Action, ["change"] = r.Change.DeepClone() };
    }

    /// <summary>
    /// A purge reaches the log, the object stores and the snapshots: the patient's (or study's) earlier entries are erased
    /// from the stream by sequence, blobs no other study of any shard references are deleted from the object store, the
    /// database is purged as on one node, and a fresh snapshot replaces the older one (whose chunks the object store purges).
    /// Steps are ordered so that a crash at any point leaves the rest to the re-applied entry.
    /// </summary>
    async Task<ClusterCommandOutcome> Purge(long seq, ClusterCommand c, CancellationToken ct)
    {
        var db = _db!;
        var byPatient = c.Command == ClusterCommand.PurgePatient;
        var target = (byPatient ? c.PatientPseudoId : c.StudyId) ?? throw new ArgumentException("the purge names no target");
        var column = byPatient ? "patient_pseudo_id" : "study_id";
        List<long> seqs;
        HashSet<string> own, others;
        using (var side = Side(Directory))
        {
            seqs = Longs(side, $"SELECT seq FROM cluster_entries WHERE {column} = @t AND seq < @q AND kind NOT LIKE 'purge%'", ("@t", target), ("@q", seq));
            own = Strings(side, BlobsWhere($"s.{column} = @t"), ("@t", target));
            others = Strings(side, BlobsWhere($"s.{column} <> @t"), ("@t", target));
        }
        foreach (var s in seqs) await log.EraseEntryAsync(s, ct);
        var candidates = own.Except(others).ToArray();
        var blobsDeleted = 0; // the deployment's count: blobs no study of any shard references any more (one node's blobs_removed)
        if (candidates.Length > 0)
        {
            var elsewhere = await Task.WhenAll(Enumerable.Range(0, host.Config.Shards).Where(n => n != Shard)
                .Select(n => GrainFactory.GetGrain<IShardGrain>(n).ReferencedBlobs(candidates)));
            foreach (var sha in candidates.Except(elsewhere.SelectMany(x => x)))
            {
                await log.DeleteBlobAsync(sha, ct);
                blobsDeleted++;
            }
        }
        var r = byPatient ? db.PurgePatient(target, c.Author) : db.PurgeStudy(target, c.Author);
        using (var side = Side(Directory))
        {
            // These rows name the patient's study ids: secure_delete zeroes them in the file (the pragma is per connection).
            Exec(side, "PRAGMA secure_delete=ON");
            Exec(side, $"DELETE FROM cluster_entries WHERE {column} = @t AND kind NOT LIKE 'purge%'", ("@t", target));
            CasebookDb.CheckpointFully(side);
        }
        _applied = seq;
        Record([(seq, c.Command, byPatient ? null : target, byPatient ? target : null)]);
        await Snapshot();
        // Inactive copies of this shard on other silos' disks (left where it ran before it moved) are caches of older states:
        // remove those this machine reaches. Any other is older than the snapshot just written, so it is replaced by it
        // (purge included) before it is used, if the shard ever activates there again.
        foreach (var node in host.Config.Nodes.Where(n => n.Role == "silo" && n.Name != host.SiloName && n.Dir.Length > 0))
        {
            var stale = Path.Combine(node.Dir, "shards", $"shard-{Shard}");
            try { if (System.IO.Directory.Exists(stale)) System.IO.Directory.Delete(stale, recursive: true); }
            catch (IOException e) { logger.LogWarning("shard {Shard}: could not remove the stale copy {Dir}: {Message}", Shard, stale, e.Message); }
        }
        logger.LogInformation("shard {Shard}: purged {Target}: {Entries} log entries erased, {Studies} studies", Shard, r.Target, seqs.Count, r.StudiesRemoved);
        return new ClusterCommandOutcome(new JsonObject
        {
            ["version"] = r.Version, ["target"] = r.Target, ["studies_removed"] = r.StudiesRemoved, ["rows_removed"] = r.RowsRemoved, ["blobs_removed"] = blobsDeleted,
            ["log_entries_erased"] = seqs.Count,
        });
    }

    static string BlobsWhere(string where) => $"""
        SELECT s.dicom_image FROM studies s WHERE {where} AND s.dicom_image IS NOT NULL
        UNION SELECT s.dictation_audio FROM studies s WHERE {where} AND s.dictation_audio IS NOT NULL
        UNION SELECT s.report_pdf FROM studies s WHERE {where} AND s.report_pdf IS NOT NULL
        UNION SELECT g.blob FROM segments g JOIN studies s ON s.row_id = g.study_row_id WHERE {where} AND g.blob IS NOT NULL
        """;

    static SqliteCommand Cmd(SqliteConnection c, string sql, (string, object)[] ps)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in ps) cmd.Parameters.AddWithValue(n, v);
        return cmd;
    }

    static void Exec(SqliteConnection c, string sql, params (string, object)[] ps) { using var cmd = Cmd(c, sql, ps); cmd.ExecuteNonQuery(); }

    static List<long> Longs(SqliteConnection c, string sql, params (string, object)[] ps)
    {
        using var cmd = Cmd(c, sql, ps);
        using var r = cmd.ExecuteReader();
        var list = new List<long>();
        while (r.Read()) list.Add(r.GetInt64(0));
        return list;
    }

    static HashSet<string> Strings(SqliteConnection c, string sql, params (string, object)[] ps)
    {
        using var cmd = Cmd(c, sql, ps);
        using var r = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (r.Read()) set.Add(r.GetString(0));
        return set;
    }

    public async Task<string> Write(string commandJson)
    {
        var c = JsonSerializer.Deserialize<ClusterCommand>(commandJson) ?? throw new ArgumentException("empty command");
        try
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                await Replay(0, CancellationToken.None);
                if (!c.IsPurge && Check(c) is { } refused) return JsonSerializer.Serialize(refused);
                // Appended only if the partition still ends where the check saw it; else catch up and check again.
                var seq = await log.AppendCommandAsync(Shard, c, _applied);
                if (seq == null) continue;
                await Replay(seq.Value, CancellationToken.None);
                return JsonSerializer.Serialize(_outcomes.GetValueOrDefault(seq.Value) ?? new ClusterCommandOutcome(null, "unknown", $"log entry {seq} was applied but its outcome is not known here"));
            }
            throw new TimeoutException($"shard {Shard}: the partition kept moving; the change was not appended");
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    /// <summary>The single node's preconditions, against this shard's state: role, the study, the base version.</summary>
    ClusterCommandOutcome? Check(ClusterCommand c)
    {
        var db = _db!;
        try { ValidationRoles.Check(c.Who); }
        catch (UnauthorizedAccessException e) { return new ClusterCommandOutcome(null, "forbidden", e.Message); }
        catch (ArgumentException e) { return new ClusterCommandOutcome(null, "invalid", e.Message); }
        var id = c.StudyId ?? "";
        var study = db.GetStudy(id, withSegments: false);
        if (study == null) return new ClusterCommandOutcome(null, "invalid", $"study '{id}' does not exist");
        // The engine's argument checks that need no image, made before the append so a bad request leaves no entry.
        var status = c.Arg("status");
        if (c.Command == ClusterCommand.ValidateFinding && status is not (FindingStatus.Confirmed or FindingStatus.Rejected))
            return new ClusterCommandOutcome(null, "invalid", $"--status '{status}': expected confirmed or rejected");
        if (c.Command == ClusterCommand.ValidateFinding && status == FindingStatus.Rejected
            && !study.PathologyFindings.OfType<JsonObject>().Any(f => string.Equals(f["term"]?.GetValue<string>(), c.Arg("finding")?.Trim(), StringComparison.OrdinalIgnoreCase)))
            return new ClusterCommandOutcome(null, "invalid", $"study '{id}' has no finding '{c.Arg("finding")}' to reject");
        if (c.Command == ClusterCommand.Diagnose && !DiagnosisStatus.All.Contains(status ?? ""))
            return new ClusterCommandOutcome(null, "invalid", $"--status '{status}': expected confirmed, provisional or refuted");
        if (c.Command == ClusterCommand.Diagnose && c.Arg("system") is not (CodeSystems.Icd10Cm or CodeSystems.Snomed))
            return new ClusterCommandOutcome(null, "invalid", $"--system '{c.Arg("system")}': expected icd10cm or snomed");
        var current = db.CurrentVersion;
        if (c.BaseVersion is not { } b || b < 1 || b > current) return new ClusterCommandOutcome(null, "invalid", $"--base-version {c.BaseVersion} does not exist (versions are 1..{current})");
        var changed = db.History(id).Max(h => h.Version);
        if (changed > b) { var e = new ValidationConflictException(id, b, changed); return new ClusterCommandOutcome(null, "conflict", e.Message, changed); }
        return null;
    }

    public Task<string?> StudyQuery(string requestJson)
    {
        try
        {
            var q = JsonNode.Parse(requestJson)!.AsObject();
            var id = q["study_id"]?.GetValue<string>() ?? "";
            var db = _db!;
            string? answer = q["op"]!.GetValue<string>() switch
            {
                "has" => HasAnyVersion(id) ? "true" : null,
                "study" => db.GetStudy(id) is { } s ? JsonSerializer.Serialize(s, ClusterLog.RecordJson) : null,
                "history" => db.GetStudy(id, withSegments: false) != null || HasAnyVersion(id)
                    ? new JsonArray(db.History(id).Select(e => (JsonNode)e.ToJson()).ToArray()).ToJsonString() : null,
                "timeline" => db.Timeline(id, new TimelineOptions
                {
                    WindowDays = q["window"]?.GetValue<int>() ?? new TimelineOptions().WindowDays,
                    OutcomeWindowDays = q["outcome_window"]?.GetValue<int>() ?? new TimelineOptions().OutcomeWindowDays,
                })?.ToJson().ToJsonString(),
                "outcomes" => db.GetStudy(id, withSegments: false) != null ? SimilarCases.OutcomesOf(db, id).ToJsonString() : null,
                "similar_text" => db.GetStudy(id) is { } s2
                    ? new JsonObject { ["text"] = SimilarCases.StudyText(s2), ["images"] = SimilarCases.PooledImage(s2) != null }.ToJsonString() : null,
                "rows" => RowsOf(id),
                "regions" => db.GetStudy(id, withSegments: false) != null || HasAnyVersion(id) ? db.Regions(id).ToJsonString() : null,
                // A patient's studies (the MRN look-up): the patient's shard answers, the others have none.
                "patient_studies" => new JsonArray(db.Studies(withSegments: false).Where(s => s.PatientPseudoId == q["patient"]!.GetValue<string>())
                    .Select(s => (JsonNode)new JsonObject { ["study_id"] = s.StudyId, ["modality"] = s.Modality, ["exam_date"] = s.ExamDate }).ToArray()).ToJsonString(),
                var op => throw new ArgumentException($"unknown study query '{op}'"),
            };
            return Task.FromResult(answer);
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    /// <summary>Every row the study ever had (the server's history JSON): version opened, closed, time, author, message, hash.</summary>
    string? RowsOf(string studyId)
    {
        using var c = Side(Directory);
        var rows = CasebookDb.StudyRowHistory(c, studyId);
        return rows.Count == 0 ? null : rows.ToJsonString();
    }

    bool HasAnyVersion(string studyId)
    {
        using var c = Side(Directory);
        using var cmd = Cmd(c, "SELECT 1 FROM studies WHERE study_id = @s LIMIT 1", [("@s", studyId)]);
        return cmd.ExecuteScalar() != null;
    }

    public Task<string[]> ReferencedBlobs(string[] sha256)
    {
        if (_db == null || sha256.Length == 0) return Task.FromResult(Array.Empty<string>());
        using var c = Side(Directory);
        var all = Strings(c, BlobsWhere("1 = 1"));
        return Task.FromResult(sha256.Where(all.Contains).ToArray());
    }

    public Task<string> VersionList()
    {
        var seqs = VersionSeqs().ToDictionary(v => v.Version, v => v.Seq); // the log sequence of each version (ShardGrain.History.cs)
        return Task.FromResult(new JsonArray(_db!.Versions().Select(v => (JsonNode)new JsonObject
            { ["version"] = v.Version, ["time"] = v.Time, ["author"] = v.Author, ["message"] = v.Message, ["log_seq"] = seqs.GetValueOrDefault(v.Version) }).ToArray()).ToJsonString());
    }

    public async Task<long> Rebuild()
    {
        try
        {
            _db?.Dispose();
            _db = null;
            SqliteConnection.ClearAllPools(); // pooled connections hold the files open
            if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
            _db = CasebookDb.Open(Directory, new CasebookOptions { KeyFile = host.Config.KeyFile, Author = "cluster" });
            FetchMissingBlobs();
            _applied = _snapshotAt = 0;
            await Replay(0, CancellationToken.None);
            await Snapshot();
            logger.LogInformation("shard {Shard}: rebuilt from the log up to sequence {Seq}", Shard, _applied);
            return _applied;
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public Task<string> StatsJson()
    {
        var st = _db!.Stats();
        return Task.FromResult(new JsonObject
        {
            ["version"] = st.Version, ["studies"] = st.Studies, ["segments"] = st.Segments, ["patients"] = st.Patients, ["versions"] = st.Versions, ["blobs"] = st.Blobs,
        }.ToJsonString());
    }
}
