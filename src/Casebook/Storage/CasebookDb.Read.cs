using Casebook.Model;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>The study as it was at <paramref name="asOf"/> (default: now), with its segments; null if absent.</summary>
    public StudyRecord? GetStudy(string studyId, long? asOf = null, bool withSegments = true)
    {
        using var c = Connect();
        var v = ResolveVersion(c, asOf);
        return ReadStudies(c, v, "s.study_id = @id", [("@id", studyId)], withSegments).FirstOrDefault();
    }

    /// <summary>Every study valid at <paramref name="asOf"/> (default: now), ordered by study_id, streamed.</summary>
    public IEnumerable<StudyRecord> Studies(long? asOf = null, bool withSegments = true)
    {
        using var c = Connect();
        var v = ResolveVersion(c, asOf);
        foreach (var s in ReadStudies(c, v, null, [], withSegments)) yield return s;
    }

    public long CountStudies(long? asOf = null)
    {
        using var c = Connect();
        var v = ResolveVersion(c, asOf);
        return Scalar<long>(c, null, $"SELECT COUNT(*) FROM studies s WHERE {Schema.ValidAt}", ("@asof", v));
    }

    internal static IEnumerable<StudyRecord> ReadStudies(SqliteConnection c, long version, string? where, (string, object?)[] args, bool withSegments)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Schema.StudyColumns} FROM studies s WHERE {Schema.ValidAt}" + (where != null ? $" AND ({where})" : "") + " ORDER BY s.study_id";
        cmd.Parameters.AddWithValue("@asof", version);
        foreach (var (n, val) in args) cmd.Parameters.AddWithValue(n, val ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var (rowId, study, _) = RowCodec.ReadStudy(r);
            if (withSegments) study.Segments = ReadSegments(c, rowId);
            yield return study;
        }
    }

    internal static List<SegmentRecord> ReadSegments(SqliteConnection c, long studyRowId)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Schema.SegmentColumns} FROM segments g WHERE g.study_row_id = @r ORDER BY g.ordinal";
        cmd.Parameters.AddWithValue("@r", studyRowId);
        using var r = cmd.ExecuteReader();
        var list = new List<SegmentRecord>();
        while (r.Read()) list.Add(RowCodec.ReadSegment(r).Segment);
        return list;
    }

    /// <summary>
    /// Every row a study ever had, oldest first (the history JSON of the server and of a cluster shard): the version that
    /// opened it, the one that closed it (null: live), that version's time, author and message, and the content hash.
    /// </summary>
    public static System.Text.Json.Nodes.JsonArray StudyRowHistory(SqliteConnection c, string studyId)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT s.v_from, s.v_to, v.time, v.author, v.message, s.content_hash
            FROM studies s JOIN versions v ON v.version = s.v_from WHERE s.study_id = @id ORDER BY s.v_from
            """;
        cmd.Parameters.AddWithValue("@id", studyId);
        using var r = cmd.ExecuteReader();
        var rows = new System.Text.Json.Nodes.JsonArray();
        while (r.Read())
            rows.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["version"] = r.GetInt64(0), ["until"] = r.IsDBNull(1) ? null : r.GetInt64(1), ["time"] = r.GetString(2), ["author"] = r.GetString(3),
                ["message"] = r.GetString(4), ["content_hash"] = r.GetString(5),
            });
        return rows;
    }
}
