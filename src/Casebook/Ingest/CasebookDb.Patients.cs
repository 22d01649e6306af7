using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Timeline;
using Microsoft.Data.Sqlite;

namespace Casebook;

/// <summary>Demographics a patient-administration message carries (HL7 ADT PID-7, PID-8); identifiers never get here.</summary>
public sealed record PatientDemographics(string? Sex, DateOnly? BirthDate)
{
    /// <summary>The day the message speaks for: ages of studies without an exam date are taken at it.</summary>
    public DateOnly AsOf { get; init; } = DateOnly.FromDateTime(DateTime.UtcNow);
}

/// <summary>What a patient update or merge changed: one version (null when nothing changed), studies and events touched.</summary>
public sealed record PatientChangeResult(long? Version, string PatientPseudoId, int Studies, int Events, int Unchanged);

/// <summary>
/// Patient updates and merges from patient administration (HL7 v2 ADT^A08, ADT^A40; Server/Feeds/Hl7). Patients are named
/// by issuer and source id, pseudonymised here with the key file exactly as at ingest, so the clear id is never stored.
/// Each operation is one attributed version; history is kept (earlier rows stay readable with --as-of).
/// </summary>
public sealed partial class CasebookDb
{
    /// <summary>
    /// ADT^A08: sets the de-identified demographics of every live study of the patient — sex normalised to M/F/O/U, and the
    /// age band at the study (5-year bands, 90+), from the birth date. The birth date itself is never stored: the age is
    /// computed against the study's exam date; DICOM and FHIR ingest shifted that by the patient's date shift, so for their
    /// studies the birth date is shifted by the same days first. Studies without a date get the age at <see cref="PatientDemographics.AsOf"/>.
    /// </summary>
    public PatientChangeResult UpdatePatientDemographics(string issuer, string patientId, PatientDemographics demographics, string message, string? author = null)
    {
        var key = PatientPseudonym.Load(Options.KeyFile);
        var pseudo = key.Pseudonymise(issuer, patientId);
        var shift = DateShift.ForPatient(key, issuer, patientId);
        var batch = new WriteBatch();
        foreach (var study in LiveStudiesOf(pseudo))
        {
            if (demographics.Sex != null) Demographics.AddToMetadata(study.Metadata, "sex", demographics.Sex);
            if (demographics.BirthDate is { } birth)
            {
                // DICOM and FHIR studies store shifted exam dates; manifest rows store theirs as given.
                var shifted = study.Metadata.ContainsKey("dicom") || study.Metadata.ContainsKey("fhir");
                var at = study.ExamDate != null && DateOnly.TryParseExact(study.ExamDate, "yyyy-MM-dd", out var exam) ? exam : shifted ? shift.Apply(demographics.AsOf) : demographics.AsOf;
                var years = AgeInYears(shifted ? shift.Apply(birth) : birth, at);
                if (years >= 0 && Demographics.AgeBand(years.ToString(CultureInfo.InvariantCulture)) is { } band) study.Metadata["age_band"] = band;
            }
            batch.Upserts.Add(study);
        }
        if (batch.IsEmpty) return new PatientChangeResult(null, pseudo, 0, 0, 0);
        var result = Commit(batch, message, author);
        return new PatientChangeResult(result.Version, pseudo, result.Updated, 0, result.Unchanged);
    }

    /// <summary>
    /// ADT^A40: merges the prior patient into the surviving one. Every live study and patient event of the prior pseudonym
    /// moves to the surviving pseudonym in one version (the old rows close, new rows open, so history still shows where they
    /// were); moved studies record <c>metadata.merged_from</c> (the prior pseudonym, never the id). Timelines of both
    /// patients' studies are recomputed over the joined events. Dates stay as ingest shifted them under the prior identity
    /// (the originals are not kept, so they cannot be re-shifted): intervals within the prior patient's records hold, intervals
    /// across the two identities are off by the difference of their shifts.
    /// </summary>
    public PatientChangeResult MergePatients(string issuer, string survivingId, string priorIssuer, string priorId, string message, string? author = null)
    {
        var key = PatientPseudonym.Load(Options.KeyFile);
        var survivor = key.Pseudonymise(issuer, survivingId);
        var prior = key.Pseudonymise(priorIssuer, priorId);
        if (survivor == prior) throw new ArgumentException("the prior patient id (MRG-1) is the surviving patient id (PID-3): nothing to merge");
        List<TimelineEvent> events;
        using (var c = Connect())
        {
            var v = ResolveVersion(c, null);
            events = ReadPatientEvents(c, v, survivor);
            events.AddRange(ReadPatientEvents(c, v, prior)); // the study window reads times and codes, not the patient
        }
        var batch = new WriteBatch();
        var timeline = new TimelineOptions();
        foreach (var study in LiveStudiesOf(prior))
        {
            study.PatientPseudoId = survivor;
            var from = study.Metadata["merged_from"] as JsonArray ?? new JsonArray();
            from.Add(prior);
            study.Metadata["merged_from"] = from;
            study.TimelineEvents = StudyTimelines.Column(study, events, timeline);
            batch.Upserts.Add(study);
        }
        foreach (var study in LiveStudiesOf(survivor))
        {
            var column = StudyTimelines.Column(study, events, timeline);
            if (column.ToJsonString() == study.TimelineEvents.ToJsonString()) continue;
            study.TimelineEvents = column;
            batch.Upserts.Add(study);
        }
        var moved = 0;
        // The events move inside the studies' write transaction, so the merge is one version; with no study to move they still
        // need a version of their own, made by a batch-less commit below.
        void MoveEvents(SqliteConnection c, SqliteTransaction tx, long version) => moved = MoveEventsTo(c, tx, version, prior, survivor);
        if (!batch.IsEmpty)
        {
            var result = Commit(batch, message, author, null, MoveEvents);
            return new PatientChangeResult(result.Version, survivor, result.Inserted + result.Updated, moved, result.Unchanged);
        }
        long eventsVersion;
        using (var c = Connect())
        using (var tx = c.BeginTransaction(deferred: false))
        {
            eventsVersion = Scalar<long>(c, tx, "SELECT COALESCE(MAX(version), 0) FROM versions") + 1;
            moved = MoveEventsTo(c, tx, eventsVersion, prior, survivor);
            if (moved == 0) { tx.Rollback(); return new PatientChangeResult(null, survivor, 0, 0, 0); }
            Exec(c, tx, "INSERT INTO versions(version, time, author, message) VALUES (@v, @t, @a, @m)",
                ("@v", eventsVersion), ("@t", Now()), ("@a", author ?? Options.Author), ("@m", message));
            tx.Commit();
        }
        OnCommitted();
        return new PatientChangeResult(eventsVersion, survivor, 0, moved, 0);
    }

    /// <summary>Closes the prior patient's live event rows at <paramref name="version"/> and opens copies under the survivor.</summary>
    static int MoveEventsTo(SqliteConnection c, SqliteTransaction tx, long version, string prior, string survivor)
    {
        const string Columns = """
            event_id, content_hash, time, time_end, precision, sort_time, type, code_system, code, display, value, value_text, unit,
            canonical_value, canonical_unit, abnormal, abnormal_basis, status, missing, study_id, source, detail
            """;
        var rows = new List<long>();
        using (var find = c.CreateCommand())
        {
            find.Transaction = tx;
            find.CommandText = "SELECT row_id FROM patient_events WHERE patient_pseudo_id = @p AND v_to IS NULL";
            find.Parameters.AddWithValue("@p", prior);
            using var r = find.ExecuteReader();
            while (r.Read()) rows.Add(r.GetInt64(0));
        }
        foreach (var row in rows)
        {
            // Close first: the live-event index allows one live row per event_id.
            Exec(c, tx, "UPDATE patient_events SET v_to = @v WHERE row_id = @r", ("@v", version), ("@r", row));
            Exec(c, tx, $"INSERT INTO patient_events(v_from, v_to, patient_pseudo_id, {Columns}) SELECT @v, NULL, @s, {Columns} FROM patient_events WHERE row_id = @r",
                ("@v", version), ("@s", survivor), ("@r", row));
        }
        return rows.Count;
    }

    List<StudyRecord> LiveStudiesOf(string pseudo)
    {
        using var c = Connect();
        return ReadStudies(c, ResolveVersion(c, null), "s.patient_pseudo_id = @p", [("@p", pseudo)], withSegments: true).ToList();
    }

    static int AgeInYears(DateOnly birth, DateOnly at)
    {
        var years = at.Year - birth.Year;
        if (at < birth.AddYears(years)) years--;
        return years;
    }
}
