using System.Text.Json.Nodes;
using Casebook.Cluster;

namespace Casebook.Cli;

/// <summary>
/// The `--cluster FILE` forms of the maintenance verbs (docs/cluster.md, "Maintenance"): gc, reembed, and where keys and audit
/// find the server's directory of a served cluster.
/// </summary>
public static class ClusterMaintenanceCommands
{

    /// <summary>`gc --cluster F [--grace S] [--json]`: object-store blobs nothing references (older than the grace period), and every shard's blobs/.</summary>
    public static int Gc(Args a, string clusterFile)
    {
        var json = a.Flag("json");
        TimeSpan? grace = a.Get("grace") is { } g
            ? (double.TryParse(g, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0
                ? TimeSpan.FromSeconds(s) : throw new UsageException($"--grace must be a number of seconds ≥ 0, not '{g}'"))
            : null;
        a.EnsureAllUsed();
        var r = ClusterStudyCommands.Connected(clusterFile, c => c.CollectGarbageAsync(grace));
        if (json) Console.Out.WriteLine(r.ToJson().ToJsonString(Commands.JsonOut));
        else Console.Out.WriteLine($"removed {r.BlobsRemoved} unreferenced blobs from the object store ({r.BlobsKept} kept; grace {r.GraceSeconds:0} s) and {r.ShardBlobsRemoved} from the shards' blob directories");
        return 0;
    }

    /// <summary>
    /// `reembed --kind text|image [--models DIR] --cluster F [--json]`: re-embedded by the coordinator (or the workers) and appended
    /// to the log as new study entries (ClusterClient.ReembedAsync). JSON: the single node's keys (kind, model, versions: empty,
    /// each shard has its own, as for ingest) plus studies and applied (each touched shard's log sequence).
    /// </summary>
    public static int Reembed(Args a, string clusterFile)
    {
        var kind = a.Get("kind") ?? throw new UsageException("reembed needs --kind text|image");
        if (kind is not ("text" or "image")) throw new UsageException($"--kind must be text or image, not '{kind}'");
        var models = a.Get("models");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var r = ClusterStudyCommands.Connected(clusterFile, c => c.ReembedAsync(kind, models));
        if (json)
            Console.Out.WriteLine(new JsonObject
            {
                ["kind"] = r.Kind, ["model"] = r.Model, ["versions"] = new JsonArray(), ["studies"] = r.Studies,
                ["applied"] = new JsonObject(r.Applied.OrderBy(kv => kv.Key).Select(kv => KeyValuePair.Create(kv.Key.ToString(), (JsonNode?)kv.Value))),
            }.ToJsonString(Commands.JsonOut));
        else Console.Out.WriteLine(r.Studies == 0 ? $"{kind} vectors already made by the configured model" : $"re-embedded the {kind} vectors of {r.Studies} studies with {r.Model} through the log ({r.Applied.Count} shards)");
        return 0;
    }

    /// <summary>
    /// keys and audit with `--cluster F`: the directory `serve --cluster F` keeps its keys and audit log in (--db, else
    /// <see cref="ClusterConfig.ServerDirectory"/>); made (an empty server database) when the cluster was never served.
    /// Null without --cluster.
    /// </summary>
    public static string? ServerDirectory(Args a)
    {
        if (a.Get("cluster") is not { } file) return null;
        var dir = a.Get("db") ?? ClusterConfig.Load(file).ServerDirectory;
        if (!File.Exists(Path.Combine(dir, "casebook.db"))) CasebookDb.Open(dir).Dispose();
        return dir;
    }
}
