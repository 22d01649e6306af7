namespace Casebook;

/// <summary>Sizes of the live database.</summary>
public sealed record DatabaseStats(long Version, long Studies, long Segments, long Patients, long Versions, long Blobs);

public sealed partial class CasebookDb
{
    public DatabaseStats Stats()
    {
        using var c = Connect();
        long Q(string sql) => Scalar<long>(c, null, sql);
        return new DatabaseStats(
            Q("SELECT COALESCE(MAX(version), 0) FROM versions"),
            Q("SELECT COUNT(*) FROM studies WHERE v_to IS NULL"),
            Q("SELECT COUNT(*) FROM segments g JOIN studies s ON s.row_id = g.study_row_id WHERE s.v_to IS NULL"),
            Q("SELECT COUNT(DISTINCT patient_pseudo_id) FROM studies WHERE v_to IS NULL"),
            Q("SELECT COUNT(*) FROM versions"),
            System.IO.Directory.Exists(Path.Combine(Directory, "blobs"))
                ? System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "blobs"), "*", SearchOption.AllDirectories).LongCount(f => !f.Contains("/tmp/")) : 0);
    }
}
