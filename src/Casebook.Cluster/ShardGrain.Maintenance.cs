using System.Text.Json;
using System.Text.Json.Nodes;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>
    /// gc on this shard: applies the log up to its end, removes the blobs of the shard's blobs/ directory that no version
    /// references (the engine's <see cref="CasebookDb.CollectGarbage"/>), and answers what the object-store gc needs:
    /// {"applied": seq, "removed": n, "referenced": [sha256…]} (every blob any version of any study in this shard uses).
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<string> CollectGarbage();

    /// <summary>Live studies of this shard, whole (segments, vectors), ordered by study id, a page at a time: JSON array of records.</summary>
    [ResponseTimeout("00:02:00")]
    Task<string> LiveStudies(int skip, int take);
}

/// <summary>Maintenance on a shard: garbage collection and the reads re-embedding needs (ClusterClient.Maintenance.cs).</summary>
public sealed partial class ShardGrain
{
    public async Task<string> CollectGarbage()
    {
        try
        {
            await Replay(0, CancellationToken.None);
            // A grain runs one call at a time: no entry is being applied (fetching blobs) while the local store is collected.
            var removed = _db!.CollectGarbage();
            HashSet<string> referenced;
            using (var c = Side(Directory)) { referenced = Strings(c, BlobsWhere("1 = 1")); referenced.UnionWith(CodeBlobs(c)); } // code tables: ShardGrain.Codes.cs
            return new JsonObject
            {
                ["applied"] = _applied, ["removed"] = removed,
                ["referenced"] = new JsonArray(referenced.Order(StringComparer.Ordinal).Select(s => (JsonNode)s).ToArray()),
            }.ToJsonString();
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public Task<string> LiveStudies(int skip, int take)
    {
        try
        {
            var page = _db!.Studies(withSegments: false).Select(s => s.StudyId).Order(StringComparer.Ordinal).Skip(skip).Take(take)
                .Select(id => _db.GetStudy(id)!).ToList();
            return Task.FromResult(JsonSerializer.Serialize(page, ClusterLog.RecordJson));
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }
}
