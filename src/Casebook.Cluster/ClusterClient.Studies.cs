using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Ingest;
using Casebook.Model;
using Casebook.Search;
using Casebook.Validation;

namespace Casebook.Cluster;

/// <summary>
/// Study-scoped reads and writes through the cluster, and similar cases. A study's shard is found by asking every shard at
/// once (each answers from its own index on study_id): there is no second directory (a KV bucket) to keep consistent with
/// the log through crashes and purges, and the cost is one round of S point lookups in parallel, less than a search round.
/// A patient's shard needs no lookup: it is hash(pseudonym) mod S.
/// </summary>
public sealed partial class ClusterClient
{
    /// <summary>Asks every shard; the one holding the study answers (null when none does).</summary>
    async Task<(int Shard, string Json)?> StudyQueryAsync(string studyId, JsonObject request, CancellationToken ct = default)
    {
        request["study_id"] = studyId;
        var body = request.ToJsonString();
        var answers = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).StudyQuery(body))), ct);
        for (var n = 0; n < answers.Length; n++) if (answers[n] != null) return (n, answers[n]!);
        return null;
    }

    /// <summary>The study's shard, or null when no shard holds it (in any version).</summary>
    public async Task<int?> ShardOfStudyAsync(string studyId, CancellationToken ct = default) =>
        (await StudyQueryAsync(studyId, new JsonObject { ["op"] = "has" }, ct))?.Shard;

    /// <summary>The live study (as <see cref="CasebookDb.GetStudy"/>), or null.</summary>
    public async Task<StudyRecord?> GetStudyAsync(string studyId, CancellationToken ct = default) =>
        await StudyQueryAsync(studyId, new JsonObject { ["op"] = "study" }, ct) is { } a ? JsonSerializer.Deserialize<StudyRecord>(a.Json, ClusterLog.RecordJson) : null;

    /// <summary>The `history --json` items of a study (its shard's versions); ArgumentException as on one node when it never existed.</summary>
    public async Task<JsonArray> HistoryAsync(string studyId, CancellationToken ct = default) =>
        await StudyQueryAsync(studyId, new JsonObject { ["op"] = "history" }, ct) is { } a ? JsonNode.Parse(a.Json)!.AsArray()
            : throw new ArgumentException($"study '{studyId}' does not exist (in any version)");

    /// <summary>The `timeline --json` object, or null when no shard holds the study.</summary>
    public async Task<JsonObject?> TimelineAsync(string studyId, int? window = null, int? outcomeWindow = null, CancellationToken ct = default) =>
        await StudyQueryAsync(studyId, new JsonObject { ["op"] = "timeline", ["window"] = window, ["outcome_window"] = outcomeWindow }, ct) is { } a
            ? JsonNode.Parse(a.Json)!.AsObject() : null;

    /// <summary>Every shard's versions, each item marked with its shard; ordered by time, then shard and version.</summary>
    public async Task<JsonArray> VersionsAsync(CancellationToken ct = default)
    {
        var lists = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).VersionList())), ct);
        var items = lists.SelectMany((l, n) => JsonNode.Parse(l)!.AsArray().Select(v => { var o = v!.AsObject().DeepClone().AsObject(); o["shard"] = n; return o; }));
        return new JsonArray(items.OrderBy(o => o["time"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenBy(o => o["shard"]!.GetValue<int>()).ThenBy(o => o["version"]!.GetValue<long>()).Select(o => (JsonNode)o).ToArray());
    }

    /// <summary>
    /// Similar cases as on one node (<see cref="SimilarCases.Run"/>): the query (a study's text and its slices' pooled image
    /// vector, from its shard; an image embedded here once; or text) runs the cluster's search for one more than asked (global
    /// BM25, dense and image lists from every shard, the single-node fusion), the study itself is left out, and each hit's
    /// outcomes come from its own shard (hash of its patient). Query building is in ClusterClient.Images.cs.
    /// </summary>
    public async Task<SimilarResult> SimilarAsync(SimilarQuery q, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        if ((q.StudyId != null ? 1 : 0) + (q.Image != null ? 1 : 0) + (q.Text != null ? 1 : 0) != 1)
            throw new ArgumentException("similar takes exactly one of a study id, an image file or text");
        if (q.Limit < 1) throw new ArgumentException("--limit must be at least 1");
        var request = await SimilarRequestAsync(q, ct);
        var result = await SearchAsync(request with { Limit = q.Limit + 1, Filter = q.Filter, SegmentsPerStudy = 1 }, ct);
        var hits = result.Results.Where(h => h.StudyId != q.StudyId).Take(q.Limit).ToList();
        var outcomes = await Task.WhenAll(hits.Select(async h =>
        {
            var body = new JsonObject { ["op"] = "outcomes", ["study_id"] = h.StudyId }.ToJsonString();
            var json = await Retry(() => Shard(ShardMap.ShardOf(h.PatientPseudoId, Config.Shards)).StudyQuery(body), ct);
            return json != null ? JsonNode.Parse(json)!.AsArray() : new JsonArray();
        }));
        var cases = hits.Select((h, i) => new SimilarCase(h.StudyId, h.Score, outcomes[i])).ToList();
        return new SimilarResult(cases, SimilarCases.Summarise(cases), clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// A clinician change through the log: the study's shard checks it (study, role, base version), appends it (only if
    /// its partition did not move since the check) and applies it. The answer is the single-node result or the refusal.
    /// </summary>
    public async Task<ClusterCommandOutcome> ChangeAsync(ClusterCommand command, CancellationToken ct = default)
    {
        if (command.IsPurge) throw new ArgumentException("use PurgeAsync for purges");
        var id = command.StudyId ?? throw new ArgumentException("a change names its study");
        var shard = await ShardOfStudyAsync(id, ct);
        if (shard == null) return new ClusterCommandOutcome(null, "invalid", $"study '{id}' does not exist");
        return await WriteAsync(shard.Value, command);
    }

    /// <summary>
    /// Purges a patient (by pseudonym) or a study through the log: its shard erases the earlier entries holding it from the
    /// stream, deletes the blobs only it used from the object store, purges its database and replaces its snapshot.
    /// </summary>
    public async Task<ClusterCommandOutcome> PurgeAsync(string? patientPseudoId, string? studyId, string author, CancellationToken ct = default)
    {
        if ((patientPseudoId == null) == (studyId == null)) throw new ArgumentException("purge needs exactly one of a patient pseudonym or a study id");
        var command = new ClusterCommand
        {
            Command = patientPseudoId != null ? ClusterCommand.PurgePatient : ClusterCommand.PurgeStudy,
            PatientPseudoId = patientPseudoId, StudyId = studyId, Author = author, Time = ClusterCommand.NowTime(),
        };
        // A study that is in no shard is purged nowhere, as on one node (0 studies removed): its would-be shard records it.
        var shard = patientPseudoId != null ? ShardMap.ShardOf(patientPseudoId, Config.Shards) : await ShardOfStudyAsync(studyId!, ct) ?? 0;
        return await WriteAsync(shard, command);
    }

    /// <summary>The pseudonym of a patient id with the deployment's key (the one every node uses).</summary>
    public string Pseudonymise(string issuer, string patientId) => PatientPseudonym.Load(Config.KeyFile).Pseudonymise(issuer, patientId);

    async Task<ClusterCommandOutcome> WriteAsync(int shard, ClusterCommand command)
    {
        // Not retried blindly: a timed-out call may still have appended (the shard goes on); the caller sees the error.
        var json = await Shard(shard).Write(JsonSerializer.Serialize(command));
        return JsonSerializer.Deserialize<ClusterCommandOutcome>(json)!;
    }

    /// <summary>Replays a shard from its whole log partition on a fresh database (an operator's repair, and the test that the log alone rebuilds it).</summary>
    public Task<long> RebuildShardAsync(int shard) => Shard(shard).Rebuild();

    /// <summary>Writes a shard's snapshot to the object store now.</summary>
    public Task<long> SnapshotShardAsync(int shard) => Shard(shard).Snapshot();

    /// <summary>Every row a study ever had in its shard (the server's history JSON items), or null.</summary>
    public async Task<JsonArray?> StudyRowsAsync(string studyId, CancellationToken ct = default) =>
        await StudyQueryAsync(studyId, new JsonObject { ["op"] = "rows" }, ct) is { } a ? JsonNode.Parse(a.Json)!.AsArray() : null;

    /// <summary>A study's outcomes (<see cref="SimilarCases.OutcomesOf"/>) from its shard, or null.</summary>
    public async Task<JsonArray?> OutcomesAsync(string studyId, CancellationToken ct = default) =>
        await StudyQueryAsync(studyId, new JsonObject { ["op"] = "outcomes" }, ct) is { } a ? JsonNode.Parse(a.Json)!.AsArray() : null;

    /// <summary>A study's regions (`regions --json`), or null when no shard holds it.</summary>
    public async Task<JsonArray?> RegionsAsync(string studyId, CancellationToken ct = default) =>
        await StudyQueryAsync(studyId, new JsonObject { ["op"] = "regions" }, ct) is { } a ? JsonNode.Parse(a.Json)!.AsArray() : null;

    /// <summary>A patient's live studies (study_id, modality, exam_date) from the patient's shard.</summary>
    public async Task<JsonArray> PatientStudiesAsync(string patientPseudoId, CancellationToken ct = default)
    {
        var body = new JsonObject { ["op"] = "patient_studies", ["patient"] = patientPseudoId }.ToJsonString();
        return JsonNode.Parse((await Retry(() => Shard(ShardMap.ShardOf(patientPseudoId, Config.Shards)).StudyQuery(body), ct))!)!.AsArray();
    }

    /// <summary>
    /// `stats --json` over the cluster: studies, segments, patients and versions summed over the shards (a patient lives in
    /// one shard, so the sums are exact); "version" is the log's last sequence and "blobs" the shards' blob stores summed.
    /// </summary>
    public async Task<JsonObject> StatsAsync(CancellationToken ct = default)
    {
        var all = (await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).StatsJson())), ct)).Select(j => JsonNode.Parse(j)!).ToList();
        long Sum(string key) => all.Sum(s => s[key]!.GetValue<long>());
        return new JsonObject
        {
            ["version"] = await Log.LastLogSequenceAsync(ct), ["studies"] = Sum("studies"), ["segments"] = Sum("segments"), ["patients"] = Sum("patients"),
            // Each shard keeps the blobs its studies use: a blob two shards use counts twice (the object store holds it once).
            ["versions"] = Sum("versions"), ["blobs"] = Sum("blobs"),
        };
    }
}
