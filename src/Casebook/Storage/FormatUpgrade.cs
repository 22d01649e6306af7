using Microsoft.Data.Sqlite;

namespace Casebook.Storage;

/// <summary>
/// Reads the directory's format number and upgrades older formats in place, inside the open transaction
/// (so a failed upgrade leaves the old format intact).
/// Format 1 (pre-release): no report_pdf columns and no extracted-feature columns.
/// Format 2: adds report_pdf, anatomical_regions, pathology_findings, risk_factors.
/// Format 3: adds studies_fts (document-level BM25 over each study row's segment text).
/// Format 4: adds patient_events (FHIR timeline events, versioned like studies); existing rows are unchanged.
/// </summary>
internal static class FormatUpgrade
{
    public static int? ReadFormat(SqliteConnection c, SqliteTransaction tx)
    {
        var hasMeta = CasebookDb.Scalar<long>(c, tx, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='meta'") > 0;
        if (!hasMeta)
        {
            if (CasebookDb.Scalar<long>(c, tx, "SELECT COUNT(*) FROM sqlite_master") > 0)
                throw new DatabaseFormatException("casebook.db has tables but no meta table: not a Casebook database");
            return null;
        }
        var text = CasebookDb.Scalar<string>(c, tx, "SELECT value FROM meta WHERE key = 'format_version'");
        if (!int.TryParse(text, out var format)) throw new DatabaseFormatException($"format_version '{text}' is unreadable");
        return format;
    }

    /// <summary>Each study row's document text: its segments' text in order, blank-line separated.</summary>
    public const string StudyTextSelect =
        "SELECT study_row_id, group_concat(text, char(10) || char(10)) FROM (SELECT study_row_id, text FROM segments WHERE text IS NOT NULL ORDER BY study_row_id, ordinal) GROUP BY study_row_id";

    public static void Upgrade(SqliteConnection c, SqliteTransaction tx, int from)
    {
        if (from < 1) throw new DatabaseFormatException($"unknown database format {from}");
        if (from == 1)
        {
            CasebookDb.Exec(c, tx, """
                ALTER TABLE studies ADD COLUMN report_pdf TEXT;
                ALTER TABLE studies ADD COLUMN report_pdf_len INTEGER;
                ALTER TABLE studies ADD COLUMN anatomical_regions TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE studies ADD COLUMN pathology_findings TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE studies ADD COLUMN risk_factors TEXT NOT NULL DEFAULT '[]';
                """);
            from = 2;
        }
        CasebookDb.Exec(c, tx, Schema.Create); // creates anything a format lacked (idempotent)
        if (from == 2)
        {
            CasebookDb.Exec(c, tx, $"INSERT INTO studies_fts(rowid, text) {StudyTextSelect}");
            from = 3;
        }
        if (from == 3) from = 4; // patient_events was created by Schema.Create above; it starts empty
        CasebookDb.Exec(c, tx, "INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')"); // index text of rows older formats held
        CasebookDb.Exec(c, tx, "UPDATE meta SET value = @f WHERE key = 'format_version'", ("@f", from.ToString()));
        CasebookDb.Exec(c, tx, "INSERT OR REPLACE INTO meta(key, value) VALUES ('upgraded', @t)", ("@t", CasebookDb.Now()));
    }
}
