using Casebook.Storage;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// Makes <paramref name="version"/>'s content current again as a NEW version (history is never rewritten):
    /// studies that differ are re-inserted from their old rows, studies added since are closed.
    /// </summary>
    public CommitResult Restore(long version, string? author = null)
    {
        var batch = new WriteBatch();
        using (var c = Connect())
        {
            ResolveVersion(c, version);
            var current = Scalar<long>(c, null, "SELECT COALESCE(MAX(version), 0) FROM versions");
            var then = ReadStudies(c, version, null, [], withSegments: true).ToList();
            var thenIds = then.Select(s => s.StudyId).ToHashSet();
            batch.Upserts.AddRange(then); // unchanged ones are skipped by content hash
            foreach (var now in ReadStudies(c, current, null, [], withSegments: false))
                if (!thenIds.Contains(now.StudyId)) batch.Deletes.Add(now.StudyId);
        }
        return Commit(batch, $"restore version {version}", author);
    }
}
