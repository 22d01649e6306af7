using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Timeline;
using Microsoft.Data.Sqlite;

namespace Casebook;

/// <summary>What an events commit did; <see cref="Patients"/> are the patients whose timeline changed.</summary>
public sealed record EventCommitResult(long? Version, int Inserted, int Updated, int Unchanged, IReadOnlySet<string> Patients);

public sealed partial class CasebookDb
{
    const string EventColumns = """
        e.event_id, e.patient_pseudo_id, e.type, e.time, e.time_end, e.precision, e.sort_time, e.code_system, e.code, e.display,
        e.value, e.value_text, e.unit, e.canonical_value, e.canonical_unit, e.abnormal, e.abnormal_basis, e.status, e.missing,
        e.study_id, e.source, e.detail
        """;

    /// <summary>
    /// Adds or updates patient events as one new version (like studies: the live row of a changed event is closed, the new
    /// row opened; an unchanged event is left alone; nothing changed = no version). Events are never deleted by ingest.
    /// </summary>
    public EventCommitResult CommitEvents(IReadOnlyList<TimelineEvent> events, string message, string? author = null)
    {
        author ??= Options.Author;
        int inserted = 0, updated = 0, unchanged = 0;
        var patients = new HashSet<string>();
        using var c = Connect();
        using var tx = c.BeginTransaction(deferred: false);
        var version = Scalar<long>(c, tx, "SELECT COALESCE(MAX(version), 0) FROM versions") + 1;
        using var find = c.CreateCommand();
        find.Transaction = tx;
        find.CommandText = "SELECT row_id, content_hash FROM patient_events WHERE event_id = @id AND v_to IS NULL";
        var findId = find.Parameters.Add("@id", SqliteType.Text);
        var seen = new HashSet<string>();
        var inserter = new EventInserter(c, tx);
        foreach (var e in events)
        {
            if (!seen.Add(e.EventId)) continue; // the same resource twice in one ingest: the first wins
            var hash = EventHash(e);
            findId.Value = e.EventId;
            long? liveRow = null; string? liveHash = null;
            using (var r = find.ExecuteReader()) if (r.Read()) { liveRow = r.GetInt64(0); liveHash = r.GetString(1); }
            if (liveHash == hash) { unchanged++; continue; }
            if (liveRow != null) { Exec(c, tx, "UPDATE patient_events SET v_to = @v WHERE row_id = @r", ("@v", version), ("@r", liveRow)); updated++; }
            else inserted++;
            inserter.Insert(e, version, hash);
            patients.Add(e.PatientPseudoId);
        }
        if (inserted + updated == 0) { tx.Rollback(); return new EventCommitResult(null, 0, 0, unchanged, patients); }
        Exec(c, tx, "INSERT INTO versions(version, time, author, message) VALUES (@v, @t, @a, @m)", ("@v", version), ("@t", Now()), ("@a", author), ("@m", message));
        tx.Commit();
        return new EventCommitResult(version, inserted, updated, unchanged, patients);
    }

    static string EventHash(TimelineEvent e) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(e.ToJson().ToJsonString() + "|" + e.PatientPseudoId + "|" + e.SortTime)));

    /// <summary>One prepared INSERT reused for every event of a commit (parameters rebound per row).</summary>
    sealed class EventInserter
    {
        static readonly string[] Names = ["@id", "@v", "@h", "@p", "@t", "@te", "@pr", "@st", "@ty", "@cs", "@c", "@d", "@val", "@vt", "@u", "@cv", "@cu", "@ab", "@abb", "@s", "@m", "@sid", "@src", "@det"];
        readonly SqliteCommand _cmd;

        public EventInserter(SqliteConnection c, SqliteTransaction tx)
        {
            _cmd = c.CreateCommand();
            _cmd.Transaction = tx;
            _cmd.CommandText = """
                INSERT INTO patient_events(event_id, v_from, content_hash, patient_pseudo_id, time, time_end, precision, sort_time, type,
                    code_system, code, display, value, value_text, unit, canonical_value, canonical_unit, abnormal, abnormal_basis, status,
                    missing, study_id, source, detail)
                VALUES (@id, @v, @h, @p, @t, @te, @pr, @st, @ty, @cs, @c, @d, @val, @vt, @u, @cv, @cu, @ab, @abb, @s, @m, @sid, @src, @det)
                """;
            foreach (var n in Names) _cmd.Parameters.Add(new SqliteParameter { ParameterName = n });
        }

        public void Insert(TimelineEvent e, long version, string hash)
        {
            object?[] values = [e.EventId, version, hash, e.PatientPseudoId, e.Time, e.TimeEnd, e.Precision, e.SortTime, e.Type, e.CodeSystem, e.Code, e.Display,
                e.Value, e.ValueText, e.Unit, e.CanonicalValue, e.CanonicalUnit, e.Abnormal is { } a ? (a ? 1 : 0) : null, e.AbnormalBasis, e.Status,
                JsonSerializer.Serialize(e.Missing), e.StudyId, e.Source, e.Detail.ToJsonString()];
            for (var i = 0; i < values.Length; i++) _cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
            _cmd.ExecuteNonQuery();
        }
    }

    static TimelineEvent ReadEvent(SqliteDataReader r)
    {
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        double? D(int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
        return new TimelineEvent
        {
            EventId = r.GetString(0), PatientPseudoId = r.GetString(1), Type = r.GetString(2), Time = S(3), TimeEnd = S(4), Precision = S(5), SortTime = S(6),
            CodeSystem = S(7), Code = S(8), Display = S(9), Value = D(10), ValueText = S(11), Unit = S(12), CanonicalValue = D(13), CanonicalUnit = S(14),
            Abnormal = r.IsDBNull(15) ? null : r.GetInt64(15) != 0, AbnormalBasis = S(16), Status = S(17),
            Missing = JsonSerializer.Deserialize<List<string>>(r.GetString(18)) ?? new(), StudyId = S(19), Source = r.GetString(20),
            Detail = JsonNode.Parse(r.GetString(21))!.AsObject(),
        };
    }

    /// <summary>A patient's events valid at <paramref name="asOf"/> (default: now) in time order; events without a time come last.</summary>
    public IReadOnlyList<TimelineEvent> PatientEvents(string patientPseudoId, long? asOf = null)
    {
        using var c = Connect();
        return ReadPatientEvents(c, ResolveVersion(c, asOf), patientPseudoId);
    }

    static List<TimelineEvent> ReadPatientEvents(SqliteConnection c, long version, string patient)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {EventColumns} FROM patient_events e WHERE e.patient_pseudo_id = @p AND e.v_from <= @asof AND (e.v_to IS NULL OR e.v_to > @asof) ORDER BY e.sort_time IS NULL, e.sort_time, e.type, e.event_id";
        cmd.Parameters.AddWithValue("@p", patient);
        cmd.Parameters.AddWithValue("@asof", version);
        using var r = cmd.ExecuteReader();
        var list = new List<TimelineEvent>();
        while (r.Read()) list.Add(ReadEvent(r));
        return list;
    }

    /// <summary>Number of live events (all patients).</summary>
    public long CountEvents()
    {
        using var c = Connect();
        return Scalar<long>(c, null, "SELECT COUNT(*) FROM patient_events WHERE v_to IS NULL");
    }

    /// <summary>The events around a study and its outcomes (what `./casebook timeline` prints); null when the study does not exist.</summary>
    public StudyTimeline? Timeline(string studyId, TimelineOptions? options = null, long? asOf = null)
    {
        options ??= new TimelineOptions();
        using var c = Connect();
        var v = ResolveVersion(c, asOf);
        var study = ReadStudies(c, v, "s.study_id = @id", [("@id", studyId)], withSegments: false).FirstOrDefault();
        if (study == null) return null;
        var events = ReadPatientEvents(c, v, study.PatientPseudoId);
        var at = StudyTimelines.StudyTime(study);
        var window = StudyTimelines.Window(events, at, options.WindowDays, int.MaxValue);
        window.AddRange(events.Where(e => e.SortTime == null)); // untimed events: shown, marked, never placed by guess
        return new StudyTimeline(studyId, study.PatientPseudoId, at, window, StudyOutcomes.Of(study, at, events, options));
    }

    /// <summary>The outcomes of one study: events after it within the window (see <see cref="StudyOutcomes"/>).</summary>
    public IReadOnlyList<StudyOutcome> Outcomes(string studyId, TimelineOptions? options = null) =>
        Timeline(studyId, options)?.Outcomes ?? throw new ArgumentException($"study '{studyId}' does not exist");

    /// <summary>
    /// Outcomes over a set of studies (e.g. the hits of a similar-case search): per outcome kind and per code, how many of the
    /// studies had it within the window and which ones. Unknown study ids are listed in <see cref="OutcomeSummary.Missing"/>.
    /// </summary>
    public OutcomeSummary SummarizeOutcomes(IEnumerable<string> studyIds, TimelineOptions? options = null)
    {
        options ??= new TimelineOptions();
        var per = new Dictionary<string, IReadOnlyList<StudyOutcome>>();
        var missing = new List<string>();
        var withTime = 0;
        using (var c = Connect())
        {
            var v = ResolveVersion(c, null);
            var events = new Dictionary<string, List<TimelineEvent>>();
            foreach (var id in studyIds.Distinct())
            {
                var study = ReadStudies(c, v, "s.study_id = @id", [("@id", id)], withSegments: false).FirstOrDefault();
                if (study == null) { missing.Add(id); continue; }
                if (!events.TryGetValue(study.PatientPseudoId, out var list)) events[study.PatientPseudoId] = list = ReadPatientEvents(c, v, study.PatientPseudoId);
                var at = StudyTimelines.StudyTime(study);
                if (at != null) withTime++;
                per[id] = StudyOutcomes.Of(study, at, list, options);
            }
        }
        return OutcomeSummary.From(per, withTime, missing, options.WindowDays);
    }

    /// <summary>
    /// Ingest: recomputes timeline_events of the live studies of <paramref name="patients"/> (except <paramref name="skip"/>,
    /// just built) and commits those that changed, so a study's column follows its patient's events.
    /// </summary>
    internal int RefreshTimelines(IEnumerable<string> patients, IReadOnlySet<string> skip, TimelineOptions options, int batchSize)
    {
        var changed = new List<StudyRecord>();
        using (var c = Connect())
        {
            var v = ResolveVersion(c, null);
            foreach (var p in patients)
            {
                var events = ReadPatientEvents(c, v, p);
                foreach (var s in ReadStudies(c, v, "s.patient_pseudo_id = @p", [("@p", p)], withSegments: true))
                {
                    if (skip.Contains(s.StudyId)) continue;
                    var column = StudyTimelines.Column(s, events, options);
                    if (column.ToJsonString() == s.TimelineEvents.ToJsonString()) continue;
                    s.TimelineEvents = column;
                    changed.Add(s);
                }
            }
        }
        foreach (var chunk in changed.Chunk(Math.Max(1, batchSize)))
        {
            var batch = new WriteBatch();
            batch.Upserts.AddRange(chunk);
            Commit(batch, $"timeline: {chunk.Length} studies follow their patients' events");
        }
        return changed.Count;
    }

    /// <summary>Ingest: the timeline_events column for a study being built (its patient's events around it).</summary>
    internal JsonArray TimelineColumnFor(StudyRecord study, TimelineOptions options)
    {
        using var c = Connect();
        var events = ReadPatientEvents(c, ResolveVersion(c, null), study.PatientPseudoId);
        return StudyTimelines.Column(study, events, options);
    }
}
