using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Cohorts;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook.Cluster;

/// <summary>
/// Cohorts through the cluster (docs/cluster.md "Cohorts, finding classifiers and patient events"): a run is scattered to every
/// shard (a patient and all their rows live in one shard, so each shard's answer is the cohort restricted to its patients) and
/// the answers are merged in the single node's order (patients, then study ids, ordinal). Saved definitions live in the KV
/// bucket casebook-meta (one list, compare-and-set), and an export writes the merged cohort with the engine's own exporter.
/// </summary>
public sealed partial class ClusterClient
{
    const string CohortsKey = "cohorts";

    /// <summary>
    /// Runs a definition over all shards, now or as of log sequence <paramref name="asOf"/> (else the definition's <c>as_of</c>,
    /// which on a cluster is a log sequence too): each shard then runs it at its newest version whose log sequence is at most
    /// S (docs/cluster.md, "Time travel"), and <see cref="CohortResult.AsOf"/> is S. Now, it is the log's last sequence when the
    /// run started (each shard numbers its own versions; the log sequence is the cluster's position, as <c>stats --cluster</c>
    /// reports it).
    /// </summary>
    public async Task<CohortResult> RunCohortAsync(CohortDefinition definition, string? name = null, int? definitionVersion = null, long? asOf = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        long? at = asOf ?? definition.AsOf;
        var seq = at is { } s ? await CheckLogSeqAsync(s, ct) : await Log.LastLogSequenceAsync(ct);
        var body = new JsonObject { ["op"] = "run", ["definition"] = definition.Json, ["as_of_log_seq"] = at }.ToJsonString();
        var answers = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).Cohort(body))), ct);
        var patients = new List<string>();
        var studies = new List<(string StudyId, string PatientPseudoId)>();
        foreach (var a in answers.Select(j => JsonNode.Parse(j)!))
        {
            patients.AddRange(a["patients"]!.AsArray().Select(p => p!.GetValue<string>()));
            studies.AddRange(a["studies"]!.AsArray().Select(s => (s![0]!.GetValue<string>(), s[1]!.GetValue<string>())));
        }
        // One node sorts with SQLite's binary collation: ordinal.
        patients.Sort(StringComparer.Ordinal);
        studies.Sort((x, y) => string.CompareOrdinal(x.StudyId, y.StudyId));
        return new CohortResult(name ?? definition.Name, definitionVersion, seq, patients, studies, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Saves a definition as the next version of <paramref name="name"/> (1, 2, …), as one node's <see cref="CasebookDb.SaveCohort"/>;
    /// its data version is the log's last sequence at saving, the cluster's version: `cohort run NAME --as-of DATA_VERSION
    /// --cluster` re-runs it on the data it was saved against, as one node's data version does.</summary>
    public async Task<SavedCohort> SaveCohortAsync(string name, CohortDefinition definition, string author, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200 || name.Contains('@'))
            throw new ArgumentException($"cohort name '{name}' must be 1..200 characters without '@' (NAME@V names a version)");
        if (string.IsNullOrWhiteSpace(author)) throw new ArgumentException("a saved cohort needs an author");
        var dataVersion = await Log.LastLogSequenceAsync(ct);
        return await Log.UpdateMetaAsync(CohortsKey, list =>
        {
            var next = list.Select(ReadSaved).Where(s => s.Name == name).Select(s => s.Version).DefaultIfEmpty(0).Max() + 1;
            var saved = new SavedCohort(name, next, author, ClusterCommand.NowTime(), dataVersion, definition.Json);
            var copy = new JsonArray(list.Select(x => x!.DeepClone()).ToArray()) { WriteSaved(saved) };
            return (copy, saved);
        }, ct);
    }

    /// <summary>Every saved version of every cohort (or of one name), by name then version (one node's order).</summary>
    public async Task<IReadOnlyList<SavedCohort>> ListCohortsAsync(string? name = null, CancellationToken ct = default)
    {
        var (list, _) = await Log.GetMetaAsync(CohortsKey, ct);
        return list.Select(ReadSaved).Where(s => name == null || s.Name == name)
            .OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Version).ToList();
    }

    /// <summary>A saved cohort, "NAME" (latest) or "NAME@V"; null when there is none.</summary>
    public async Task<SavedCohort?> GetCohortAsync(string nameOrVersion, CancellationToken ct = default)
    {
        var at = nameOrVersion.LastIndexOf('@');
        var name = at > 0 ? nameOrVersion[..at] : nameOrVersion;
        int? version = null;
        if (at > 0) version = int.TryParse(nameOrVersion[(at + 1)..], out var v) && v > 0 ? v : throw new ArgumentException($"'{nameOrVersion}': the version after '@' must be a positive integer");
        var all = await ListCohortsAsync(name, ct);
        return version is { } want ? all.FirstOrDefault(s => s.Version == want) : all.LastOrDefault();
    }

    static SavedCohort ReadSaved(JsonNode? n) => new(n!["name"]!.GetValue<string>(), n["version"]!.GetValue<int>(), n["author"]!.GetValue<string>(),
        n["time"]!.GetValue<string>(), n["data_version"]!.GetValue<long>(), n["definition"]!.GetValue<string>());

    static JsonObject WriteSaved(SavedCohort s) => new()
    {
        ["name"] = s.Name, ["version"] = s.Version, ["author"] = s.Author, ["time"] = s.Time, ["data_version"] = s.DataVersion, ["definition"] = s.Json,
    };

    /// <summary>
    /// Exports a cohort run through the cluster with the engine's <see cref="CohortExporter"/>: the cohort's live study records
    /// (from their patients' shards), its patients' events (FHIR bundles) and the binaries they reference (Parquet, from the
    /// object store) are put into a scratch database on this machine, which the exporter reads exactly as on one node; the
    /// scratch database is deleted afterwards. Roles, small-count suppression and the sensitive-content rules are the exporter's.
    /// <paramref name="asOf"/>: the cohort was run as of that log sequence, and its records and events are read as of it too.
    /// </summary>
    public async Task<CohortExportResult> ExportCohortAsync(CohortResult cohort, string format, string outPath, string? role, bool allowSensitive, long? asOf = null, CancellationToken ct = default)
    {
        var f = (format ?? "").Trim().ToLowerInvariant();
        var r = CohortRoles.Check(role);
        // Refusals first, before anything is gathered (the exporter checks them again).
        if (!CohortExporter.Formats.Contains(f)) throw new ArgumentException($"cohort export format '{format}' is not one of {string.Join(", ", CohortExporter.Formats)}");
        if (allowSensitive && r != CohortRoles.Admin)
            throw new UnauthorizedAccessException($"allowing sensitive content (dictation audio, burned-in images, report PDFs) needs role admin, not {r}");
        if (r == CohortRoles.Researcher && cohort.Patients.Count < CohortRoles.SmallCountThreshold)
            throw new UnauthorizedAccessException($"the cohort has <{CohortRoles.SmallCountThreshold} patients: researchers may export only cohorts of at least {CohortRoles.SmallCountThreshold} (small-count suppression)");
        var scratch = Path.Combine(Path.GetTempPath(), "casebook-cohort-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var db = CasebookDb.Open(scratch, new CasebookOptions { KeyFile = Config.KeyFile, Author = "cluster" });
            var byShard = Enumerable.Range(0, Config.Shards).ToDictionary(n => n, _ => (Studies: new JsonArray(), Patients: new JsonArray()));
            foreach (var (id, p) in cohort.Studies) byShard[ShardMap.ShardOf(p, Config.Shards)].Studies.Add(id);
            if (f == "fhir") foreach (var p in cohort.Patients) byShard[ShardMap.ShardOf(p, Config.Shards)].Patients.Add(p);
            var records = new List<StudyRecord>();
            var events = new List<Casebook.Timeline.TimelineEvent>();
            foreach (var (n, ask) in byShard.Where(x => x.Value.Studies.Count + x.Value.Patients.Count > 0))
            {
                var body = new JsonObject { ["op"] = "material", ["studies"] = ask.Studies, ["patients"] = ask.Patients, ["as_of_log_seq"] = asOf }.ToJsonString();
                var answer = JsonNode.Parse(await Retry(() => Shard(n).Cohort(body), ct))!;
                records.AddRange(answer["studies"]!.AsArray().Select(s => s.Deserialize<StudyRecord>(ClusterLog.RecordJson)!));
                foreach (var (_, list) in answer["events"]!.AsObject()) events.AddRange(ClusterEvents.FromJson(list));
            }
            if (f == "parquet")
                foreach (var blob in records.SelectMany(ShardGrain.Blobs).DistinctBy(b => b.Sha256))
                    if (!db.Blobs.Exists(blob.Sha256)) db.Blobs.Put(await Log.GetBlobAsync(blob.Sha256, ct));
            if (events.Count > 0) db.CommitEvents(events, "cohort export: events");
            if (records.Count > 0)
            {
                var batch = new WriteBatch();
                batch.Upserts.AddRange(records);
                db.Commit(batch, "cohort export: studies");
            }
            var local = cohort with { AsOf = db.CurrentVersion };
            var result = CohortExporter.Export(db, local, f, outPath, r, allowSensitive);
            return result;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }
}
