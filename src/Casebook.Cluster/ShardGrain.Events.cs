using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Timeline;
using Microsoft.Extensions.Logging;

namespace Casebook.Cluster;

/// <summary>
/// FHIR patient events in the log. One entry kind, a command object with <c>"command": "patient_events"</c>, the patient's
/// pseudonym and <c>args.events</c> (the events as the engine stores them), so logs and readers written before it read
/// unchanged. The coordinator appends a patient's events before the patient's studies of the same ingest (one node commits
/// events first, then builds the studies' timeline columns from them).
/// </summary>
public static class ClusterEvents
{
    public const string Kind = "patient_events";
    /// <summary>At most this many events per entry (a long history stays far under the stream's 8 MiB messages).</summary>
    public const int PerEntry = 1000;

    /// <summary>Events travel as the engine's <see cref="TimelineEvent"/> (settable properties only).</summary>
    public static JsonArray ToJson(IEnumerable<TimelineEvent> events) =>
        new(events.Select(e => JsonSerializer.SerializeToNode(e, ClusterLog.RecordJson)).ToArray());

    public static List<TimelineEvent> FromJson(JsonNode? events) =>
        events?.AsArray().Select(e => e.Deserialize<TimelineEvent>(ClusterLog.RecordJson)!).ToList() ?? new();

    public static IEnumerable<ClusterCommand> Entries(string patient, IReadOnlyList<TimelineEvent> events, string author) =>
        events.Chunk(PerEntry).Select(chunk => new ClusterCommand
        {
            Command = Kind, PatientPseudoId = patient, Author = author, Time = ClusterCommand.NowTime(),
            Args = new JsonObject { ["events"] = ToJson(chunk) },
        });
}

public sealed partial class ShardGrain
{
    /// <summary>
    /// A patient's events, applied as one node's <see cref="CasebookDb.CommitEvents"/> (a changed event closes its live row,
    /// an unchanged one is left alone; nothing changed = no version) in a commit whose message records the sequence; then the
    /// patient's live studies follow their timeline (as one node's ingest refreshes them), in a commit with the same message.
    /// Re-applying the entry changes nothing (content hashes).
    /// </summary>
    void ApplyEvents(long seq, ClusterCommand c)
    {
        try { CommitPatientEvents(seq, c); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or JsonException)
        {
            // A malformed entry changes nothing and is recorded as applied: the partition goes on (it cannot block the shard).
            logger.LogWarning("shard {Shard}: log entry {Seq} (patient events) not applied: {Message}", Shard, seq, e.Message);
            _applied = seq;
            Record([(seq, ClusterEvents.Kind, null, c.PatientPseudoId)]);
        }
    }

    void CommitPatientEvents(long seq, ClusterCommand c)
    {
        var db = _db!;
        var patient = c.PatientPseudoId ?? throw new InvalidDataException($"log entry {seq}: patient events name no patient");
        var events = ClusterEvents.FromJson(c.Args["events"]);
        var foreign = events.FirstOrDefault(e => e.PatientPseudoId != patient);
        if (foreign != null) throw new InvalidDataException($"log entry {seq}: event {foreign.EventId} belongs to another patient");
        var r = db.CommitEvents(events, SequenceMessage + seq, c.Author);
        var all = db.PatientEvents(patient);
        var batch = new WriteBatch();
        List<string> ids;
        using (var side = Side(Directory)) // the patient's live studies by the studies_patient index, not a pass over the shard
            ids = Strings(side, "SELECT study_id FROM studies WHERE patient_pseudo_id = @p AND v_to IS NULL", ("@p", patient)).Order(StringComparer.Ordinal).ToList();
        foreach (var id in ids)
        {
            var s = db.GetStudy(id)!;
            var column = StudyTimelines.Column(s, all, new TimelineOptions());
            if (column.ToJsonString() == s.TimelineEvents.ToJsonString()) continue;
            s.TimelineEvents = column;
            batch.Upserts.Add(s);
        }
        if (!batch.IsEmpty) db.Commit(batch, SequenceMessage + seq, "cluster");
        _applied = seq;
        Record([(seq, ClusterEvents.Kind, null, patient)]);
        logger.LogInformation("shard {Shard}: log entry {Seq}: {Inserted} events inserted, {Updated} updated, {Unchanged} unchanged, {Studies} studies follow",
            Shard, seq, r.Inserted, r.Updated, r.Unchanged, batch.Upserts.Count);
    }

    /// <summary>
    /// A study applied from the log gets its timeline column from this shard's events of its patient, as one node builds it
    /// from its own events at ingest (the coordinator's staging database saw only this ingest's events).
    /// </summary>
    void FollowTimeline(StudyRecord study)
    {
        var events = _db!.PatientEvents(study.PatientPseudoId);
        if (events.Count > 0) study.TimelineEvents = StudyTimelines.Column(study, events, new TimelineOptions());
    }
}
