using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Validation;
using Microsoft.Data.Sqlite;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// Every version that created, changed or deleted the study, oldest first: number, time, author, role, message, reason, the
    /// validation action and its change (when it was one), and which fields differ from the version before. Any of these states
    /// is readable with <see cref="GetStudy"/>(id, asOf: version).
    /// </summary>
    public IReadOnlyList<HistoryEntry> History(string studyId)
    {
        EnsureAttributionTable();
        using var c = Connect();
        var rows = new List<(long From, long? To, long RowId)>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT v_from, v_to, row_id FROM studies WHERE study_id = @id ORDER BY v_from";
            cmd.Parameters.AddWithValue("@id", studyId);
            using var r = cmd.ExecuteReader();
            while (r.Read()) rows.Add((r.GetInt64(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetInt64(2)));
        }
        if (rows.Count == 0) throw new ArgumentException($"study '{studyId}' does not exist (in any version)");
        var entries = new List<HistoryEntry>();
        StudyRecord? previous = null;
        for (var i = 0; i < rows.Count; i++)
        {
            var state = ReadStudies(c, rows[i].From, "s.row_id = @r", [("@r", rows[i].RowId)], withSegments: true).First();
            entries.Add(Entry(c, rows[i].From, previous == null ? ["created"] : Diff(previous, state)));
            previous = state;
            // A gap (or no successor) after a closed row is a deletion.
            if (rows[i].To is { } to && (i + 1 == rows.Count || rows[i + 1].From != to))
            {
                entries.Add(Entry(c, to, ["deleted"]));
                previous = null;
            }
        }
        return entries;
    }

    HistoryEntry Entry(SqliteConnection c, long version, IReadOnlyList<string> changed)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT v.time, v.author, v.message, a.role, a.reason, a.action, a.change
            FROM versions v LEFT JOIN version_attribution a ON a.version = v.version WHERE v.version = @v
            """;
        cmd.Parameters.AddWithValue("@v", version);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return new HistoryEntry(version, "", "", null, "(version record missing)", null, null, changed, null);
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new HistoryEntry(version, r.GetString(0), r.GetString(1), S(3), r.GetString(2), S(4), S(5), changed,
            S(6) is { } change ? JsonNode.Parse(change) : null);
    }

    /// <summary>Names of the fields that differ between two states of a study (segments by id and content).</summary>
    static List<string> Diff(StudyRecord a, StudyRecord b)
    {
        var changed = new List<string>();
        void Cmp(string name, object? x, object? y) { if (!Equals(x, y)) changed.Add(name); }
        string J(JsonNode n) => n.ToJsonString();
        Cmp("patient_pseudo_id", a.PatientPseudoId, b.PatientPseudoId);
        Cmp("modality", a.Modality, b.Modality);
        Cmp("exam_date", a.ExamDate, b.ExamDate);
        Cmp("report_text", a.ReportText, b.ReportText);
        Cmp("dicom_image", a.DicomImage, b.DicomImage);
        Cmp("dictation_audio", a.DictationAudio, b.DictationAudio);
        Cmp("report_pdf", a.ReportPdf, b.ReportPdf);
        Cmp("image_regions", J(a.ImageRegions), J(b.ImageRegions));
        Cmp("timeline_events", J(a.TimelineEvents), J(b.TimelineEvents));
        Cmp("clinical_codes", string.Join("|", a.ClinicalCodes), string.Join("|", b.ClinicalCodes));
        Cmp("metadata", J(a.Metadata), J(b.Metadata));
        Cmp("anatomical_regions", J(a.AnatomicalRegions), J(b.AnatomicalRegions));
        Cmp("pathology_findings", J(a.PathologyFindings), J(b.PathologyFindings));
        Cmp("risk_factors", J(a.RiskFactors), J(b.RiskFactors));
        static string Seg(SegmentRecord g) => $"{g.SegmentId}|{g.Kind}|{g.Text}|{g.Blob?.Sha256}";
        Cmp("segments", string.Join("\n", a.Segments.Select(Seg)), string.Join("\n", b.Segments.Select(Seg)));
        return changed;
    }
}
