using System.Text.Json.Nodes;
using Casebook.Ingest;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>
    /// Every live study's id with its plain accession (manifest) and keyed accession (DICOM), as JSON
    /// <c>[{"id","accession","accession_key"}]</c>: what one node's report linking reads (the received-report feed,
    /// ClusterClient.Feeds.cs, resolves an accession over all shards with it).
    /// </summary>
    Task<string> StudyReferences();
}

public sealed partial class ShardGrain
{
    public Task<string> StudyReferences()
    {
        try
        {
            using var c = Side(Directory);
            using var cmd = Cmd(c, $"""
                SELECT study_id, json_extract(metadata, '$.accession'), json_extract(metadata, '$.{StudyLinker.AccessionKeyField}')
                FROM studies WHERE v_to IS NULL
                """, []);
            using var r = cmd.ExecuteReader();
            var list = new JsonArray();
            while (r.Read())
                list.Add(new JsonObject
                {
                    ["id"] = r.GetString(0), ["accession"] = r.IsDBNull(1) ? null : r.GetValue(1).ToString(), ["accession_key"] = r.IsDBNull(2) ? null : r.GetString(2),
                });
            return Task.FromResult(list.ToJsonString());
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }
}
