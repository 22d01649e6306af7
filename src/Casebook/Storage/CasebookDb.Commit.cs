using Casebook.Model;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// Applies a batch atomically as one new version (SQLite IMMEDIATE transaction: concurrent writers queue
    /// behind each other, so no update is lost). Studies whose content is unchanged are left alone; when
    /// nothing changes no version is made. Blobs must already be in the blob store.
    /// </summary>
    public CommitResult Commit(WriteBatch batch, string message, string? author = null) => Commit(batch, message, author, null, null);

    /// <summary>
    /// <see cref="Commit(WriteBatch, string, string?)"/> with hooks inside the write transaction: <paramref name="check"/> runs
    /// first (a precondition such as optimistic concurrency: throw to write nothing), <paramref name="recorded"/> after the
    /// version row (side tables about the version).
    /// </summary>
    internal CommitResult Commit(WriteBatch batch, string message, string? author,
        Action<SqliteConnection, SqliteTransaction>? check, Action<SqliteConnection, SqliteTransaction, long>? recorded)
    {
        author ??= Options.Author;
        int inserted = 0, updated = 0, unchanged = 0, deleted = 0;
        long version;
        using (var c = Connect())
        using (var tx = c.BeginTransaction(deferred: false))
        {
            check?.Invoke(c, tx);
            version = Scalar<long>(c, tx, "SELECT COALESCE(MAX(version), 0) FROM versions") + 1;
            foreach (var study in batch.Upserts)
            {
                Validate(study);
                var hash = ContentHash.Of(study);
                using var find = c.CreateCommand();
                find.Transaction = tx;
                find.CommandText = "SELECT row_id, content_hash FROM studies WHERE study_id = @id AND v_to IS NULL";
                find.Parameters.AddWithValue("@id", study.StudyId);
                long? liveRow = null; string? liveHash = null;
                using (var r = find.ExecuteReader())
                    if (r.Read()) { liveRow = r.GetInt64(0); liveHash = r.GetString(1); }
                if (liveHash == hash) { unchanged++; continue; }
                if (liveRow != null)
                {
                    Exec(c, tx, "UPDATE studies SET v_to = @v WHERE row_id = @r", ("@v", version), ("@r", liveRow));
                    updated++;
                }
                else inserted++;
                RowCodec.InsertStudy(c, tx, study, version, hash);
            }
            foreach (var id in batch.Deletes)
                deleted += Exec(c, tx, "UPDATE studies SET v_to = @v WHERE study_id = @id AND v_to IS NULL", ("@v", version), ("@id", id));

            if (inserted + updated + deleted == 0)
            {
                tx.Rollback();
                return new CommitResult(null, 0, 0, unchanged, 0);
            }
            Exec(c, tx, "INSERT INTO versions(version, time, author, message) VALUES (@v, @t, @a, @m)",
                ("@v", version), ("@t", Now()), ("@a", author), ("@m", message));
            recorded?.Invoke(c, tx, version);
            tx.Commit();
        }
        OnCommitted();
        return new CommitResult(version, inserted, updated, unchanged, deleted);
    }

    static void Validate(StudyRecord s)
    {
        if (string.IsNullOrWhiteSpace(s.StudyId)) throw new ArgumentException("study_id is empty");
        if (string.IsNullOrEmpty(s.PatientPseudoId)) throw new ArgumentException($"study '{s.StudyId}': patient_pseudo_id is empty (pseudonymise the source id first)");
        if (s.ExamDate != null && !DateOnly.TryParseExact(s.ExamDate, "yyyy-MM-dd", out _))
            throw new ArgumentException($"study '{s.StudyId}': exam_date '{s.ExamDate}' is not an ISO date (yyyy-MM-dd)");
        var ids = new HashSet<string>();
        foreach (var g in s.Segments)
        {
            if (!ids.Add(g.SegmentId)) throw new ArgumentException($"study '{s.StudyId}': duplicate segment id '{g.SegmentId}'");
            if (!SegmentKind.All.Contains(g.Kind)) throw new ArgumentException($"study '{s.StudyId}': segment '{g.SegmentId}' has unknown kind '{g.Kind}'");
        }
    }
}
