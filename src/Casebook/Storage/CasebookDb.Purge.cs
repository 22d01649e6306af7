using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook;

/// <summary>What a purge removed.</summary>
public sealed record PurgeResult(long Version, string Target, int StudiesRemoved, int RowsRemoved, int BlobsRemoved);

public sealed partial class CasebookDb
{
    /// <summary>
    /// Erases every version of a patient's studies, their segments, index entries and unshared blobs — the one
    /// exception to immutable history (wrong-patient ingests, erasure requests). The purge itself is recorded as
    /// a version and in the purges table (target pseudonym, counts), never the erased content.
    /// </summary>
    public PurgeResult PurgePatient(string patientPseudoId, string? author = null) =>
        Purge("s.patient_pseudo_id = @t", patientPseudoId, $"patient {patientPseudoId}", author, purgeEvents: true);

    /// <summary>Erases every version of one study (see <see cref="PurgePatient"/>).</summary>
    public PurgeResult PurgeStudy(string studyId, string? author = null) =>
        Purge("s.study_id = @t", studyId, $"study {studyId}", author);

    PurgeResult Purge(string where, string target, string label, string? author, bool purgeEvents = false)
    {
        author ??= Options.Author;
        int studies, rows;
        long version;
        using (var c = Connect())
        {
            // secure_delete zeroes freed pages so erased text does not linger in the file.
            Exec(c, null, "PRAGMA secure_delete=ON");
            using (var tx = c.BeginTransaction(deferred: false))
            {
                version = Scalar<long>(c, tx, "SELECT COALESCE(MAX(version), 0) FROM versions") + 1;
                studies = Scalar<int>(c, tx, $"SELECT COUNT(DISTINCT s.study_id) FROM studies s WHERE {where}", ("@t", target));
                Exec(c, tx, $"DELETE FROM studies_fts WHERE rowid IN (SELECT s.row_id FROM studies s WHERE {where})", ("@t", target));
                rows = Exec(c, tx, $"DELETE FROM segments WHERE study_row_id IN (SELECT s.row_id FROM studies s WHERE {where})", ("@t", target));
                rows += Exec(c, tx, $"DELETE FROM studies AS s WHERE {where}", ("@t", target));
                // A patient's timeline events (FHIR) go with the patient; a single study's purge leaves the patient's timeline.
                if (purgeEvents) rows += Exec(c, tx, "DELETE FROM patient_events WHERE patient_pseudo_id = @t", ("@t", target));
                Exec(c, tx, "INSERT INTO versions(version, time, author, message) VALUES (@v, @t, @a, @m)",
                    ("@v", version), ("@t", Now()), ("@a", author), ("@m", $"purge {label}: {studies} studies, {rows} rows"));
                Exec(c, tx, "INSERT INTO purges(version, time, author, target, studies_removed, rows_removed) VALUES (@v, @t, @a, @g, @s, @r)",
                    ("@v", version), ("@t", Now()), ("@a", author), ("@g", label), ("@s", studies), ("@r", rows));
                tx.Commit();
            }
            // DICOMweb's side table keeps the purged instances' attributes (pseudonymised IDs, UIDs): drop those rows too.
            Casebook.Ingest.Dicom.DicomInstanceIndex.Prune(c);
            // FTS5 keeps tokens of deleted rows in its segment b-trees until merged: rewrite them now.
            Exec(c, null, "INSERT INTO segments_fts(segments_fts) VALUES ('optimize')");
            Exec(c, null, "INSERT INTO studies_fts(studies_fts) VALUES ('optimize')");
            CheckpointFully(c);
        }
        var blobs = CollectGarbage();
        OnPurged();
        return new PurgeResult(version, label, studies, rows, blobs);
    }

    /// <summary>
    /// Copies the whole WAL into the database file and truncates it, so erased pages (zeroed by secure_delete) replace the
    /// old ones on disk. A checkpoint cannot pass a reader's snapshot and then reports busy instead of failing: retry, after
    /// closing idle pooled connections, until it completes.
    /// </summary>
    public static void CheckpointFully(SqliteConnection c)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using (var r = cmd.ExecuteReader())
                if (!r.Read() || r.GetInt64(0) == 0) return;
            if (attempt == 40) throw new IOException($"{c.DataSource}: the write-ahead log could not be checkpointed (a reader held it for 10 s); erased data may remain in the WAL until the next checkpoint");
            SqliteConnection.ClearAllPools();
            Thread.Sleep(250);
        }
    }

    /// <summary>Removes blobs no row of any version references (and temp files left by crashed writers).</summary>
    public int CollectGarbage()
    {
        var referenced = new HashSet<string>();
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT dicom_image FROM studies WHERE dicom_image IS NOT NULL
            UNION SELECT dictation_audio FROM studies WHERE dictation_audio IS NOT NULL
            UNION SELECT report_pdf FROM studies WHERE report_pdf IS NOT NULL
            UNION SELECT blob FROM segments WHERE blob IS NOT NULL
            """;
        using (var r = cmd.ExecuteReader()) while (r.Read()) referenced.Add(r.GetString(0));
        return Blobs.CollectGarbage(referenced);
    }
}
