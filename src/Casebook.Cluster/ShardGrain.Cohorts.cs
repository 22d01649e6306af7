using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Cohorts;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>
    /// Cohorts over this shard (op: run, material). "run": the engine's <see cref="CasebookDb.RunCohort"/> on this shard's
    /// live rows, answering its patients and (study, patient) pairs. "material": the live records of the named studies and
    /// the events of the named patients (what an export writes). With "as_of_log_seq": S, both read the shard's version as of
    /// log sequence S (<see cref="VersionAt"/>: its newest version whose sequence is at most S) instead of the live rows.
    /// </summary>
    Task<string> Cohort(string requestJson);
}

/// <summary>
/// A cohort is a set of patients, and every criterion is about one patient's rows (studies or events), which all live in the
/// patient's shard (shard = hash(pseudonym) mod S). So each shard's answer is exactly the cohort restricted to its patients,
/// and the union over the shards is the single node's answer (not = the shard's patients less the matches: again per patient).
/// </summary>
public sealed partial class ShardGrain
{
    public async Task<string> Cohort(string requestJson)
    {
        try
        {
            var q = JsonNode.Parse(requestJson)!.AsObject();
            var db = _db!;
            // As of a log sequence: entries already in the log are applied first (as an as-of search), then this shard's version then.
            long? version = null;
            if (q["as_of_log_seq"] is JsonValue at && at.TryGetValue<long>(out var logSeq))
            {
                if (logSeq > _applied) await Replay(0, CancellationToken.None);
                version = VersionAt(logSeq).Version;
            }
            switch (q["op"]!.GetValue<string>())
            {
                case "run":
                {
                    // The coordinator sends a definition's as_of (a log sequence) as as_of_log_seq, so version overrides it here: a
                    // shard never reads it as a version of its own.
                    var r = db.RunCohort(CohortDefinition.Parse(q["definition"]!.GetValue<string>()), version);
                    return new JsonObject
                    {
                        ["patients"] = new JsonArray(r.Patients.Select(p => (JsonNode)p).ToArray()),
                        ["studies"] = new JsonArray(r.Studies.Select(s => (JsonNode)new JsonArray(s.StudyId, s.PatientPseudoId)).ToArray()),
                        ["ms"] = r.Milliseconds,
                    }.ToJsonString();
                }
                case "material":
                {
                    var studies = new JsonArray();
                    foreach (var id in q["studies"]!.AsArray().Select(x => x!.GetValue<string>()))
                        if (db.GetStudy(id, version) is { } s) studies.Add(JsonSerializer.SerializeToNode(s, ClusterLog.RecordJson));
                    var events = new JsonObject();
                    foreach (var p in q["patients"]!.AsArray().Select(x => x!.GetValue<string>()))
                        events[p] = ClusterEvents.ToJson(db.PatientEvents(p, version));
                    return new JsonObject { ["studies"] = studies, ["events"] = events }.ToJsonString();
                }
                case var op: throw new ArgumentException($"unknown cohort request '{op}'");
            }
        }
        catch (CohortDefinitionException e) { throw new ArgumentException(e.Message); }
        catch (Exception e) when (e is not InvalidOperationException and not ArgumentException) { throw Portable(e); }
    }
}
