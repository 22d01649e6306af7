using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Export;

namespace Casebook.Cli;

/// <summary>
/// `restore S --cluster F` and `export … --cluster F [--as-of S]`: the cluster's versions are log sequences (docs/cluster.md,
/// "Time travel"). Same JSON as one node.
/// </summary>
public static class ClusterHistoryCommands
{

    /// <summary>`restore S --cluster F`: log sequence S becomes current again, through a restore entry in every shard's partition.</summary>
    public static int Restore(Args a, string clusterFile)
    {
        if (a.Positional.Count != 1 || !long.TryParse(a.Positional[0], out var logSeq)) throw new UsageException("restore needs one log sequence (see `versions --cluster F --json`, key log_seq)");
        var author = a.Get("author") ?? new CasebookOptions().Author; // as one node
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var r = ClusterStudyCommands.Connected(clusterFile, c => c.RestoreAsync(logSeq, author));
        if (json) Console.Out.WriteLine(r.ToJsonString());
        else Console.Out.WriteLine(r["version"] == null ? $"log sequence {logSeq} is already current: nothing to do"
            : $"restored log sequence {logSeq} as log sequence {r["version"]} ({r["changed"]} studies changed)");
        return 0;
    }

    /// <summary>`export --cluster F`: rows gathered from every shard in the single-node order, blobs from the object store.</summary>
    public static int Export(Args a, string clusterFile)
    {
        var format = a.Get("format") ?? throw new UsageException("export needs --format parquet|arrow|jsonl");
        var outPath = a.Get("out") ?? throw new UsageException("export needs --out PATH");
        var asOf = a.Long("as-of");
        var options = new ExportOptions { IncludeBlobs = !a.Flag("no-blobs"), IncludeSegments = a.Flag("segments") };
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var result = ClusterStudyCommands.Connected(clusterFile, c => Task.FromResult(TableExporter.Export(c.StudiesForExport(asOf), c.ReadBlob, format, outPath, options)));
        if (json) Console.Out.WriteLine(new JsonObject { ["out"] = outPath, ["format"] = format, ["rows"] = result.Rows }.ToJsonString());
        else Console.Out.WriteLine($"wrote {result.Rows} rows of {CasebookDb.TableName} from the cluster to {outPath} ({format})");
        return 0;
    }
}
