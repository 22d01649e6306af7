using Casebook.Model;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// One page of <see cref="Studies"/>: at most <paramref name="limit"/> studies valid at <paramref name="asOf"/> whose study_id
    /// sorts after <paramref name="afterStudyId"/> (null: from the start), in study_id order. A cluster's export merges these
    /// pages from every shard into the single-node row order without holding a shard's table in memory.
    /// </summary>
    public List<StudyRecord> StudiesPage(long? asOf, string? afterStudyId, int limit, bool withSegments = true)
    {
        using var c = Connect();
        var v = ResolveVersion(c, asOf);
        return (afterStudyId == null ? ReadStudies(c, v, null, [], withSegments) : ReadStudies(c, v, "s.study_id > @after", [("@after", afterStudyId)], withSegments))
            .Take(limit).ToList();
    }
}
