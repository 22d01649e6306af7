using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Ingest;
using Casebook.Search;

namespace Casebook.Cli;

/// <summary>
/// `cluster up|status|down|silo` and the `--cluster FILE` forms of ingest and search (docs/cluster.md). The contracts:
/// `cluster up --silos N --nats M --data DIR` returns once the cluster answers, having written DIR/cluster.json;
/// `cluster status --cluster FILE --json` lists every node with role, pid and healthy; search prints the single-node JSON.
/// </summary>
public static class ClusterCommands
{
    static readonly HashSet<string> Flags = ["json", "exact", "no-expansion", "tls"];

    public static int Run(string[] rest)
    {
        if (rest.Length == 0) throw new UsageException("cluster needs up, status, down or silo");
        var a = new Args(rest[1..], Flags);
        return rest[0] switch
        {
            "up" => Up(a),
            "status" => Status(a),
            "down" => Down(a),
            "silo" => Silo(a),
            "worker" => WorkerCommands.Worker(a),
            _ => throw new UsageException($"unknown cluster command '{rest[0]}' (up, status, down, silo, worker)"),
        };
    }

    /// <summary>How this CLI starts itself as a silo: `dotnet exec Casebook.Cli.dll` (works from the apphost, `dotnet run` and tests).</summary>
    public static (string Program, string[] Args) SelfCommand()
    {
        var dll = typeof(ClusterCommands).Assembly.Location;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        return (dotnet, ["exec", dll]);
    }

    static int Up(Args a)
    {
        var silos = (int)(a.Long("silos") ?? 3);
        var nats = (int)(a.Long("nats") ?? 3);
        var shards = (int)(a.Long("shards") ?? ShardMap.DefaultShards);
        var data = a.Get("data") ?? "casebook-cluster";
        var keyFile = a.Get("key-file") ?? (Environment.GetEnvironmentVariable("CASEBOOK_KEY_FILE") is { Length: > 0 } k ? k : null); // one key set for every node
        var json = a.Flag("json");
        var (host, tls, tlsFiles) = ClusterTlsCommands.UpOptions(a); // --host, --tls [--tls-ca F --tls-cert F --tls-key F]
        var (workers, ackWait) = WorkerCommands.UpOptions(a);
        a.EnsureAllUsed();
        if (shards < 1) throw new UsageException("--shards must be at least 1");
        var config = LocalCluster.UpAsync(data, silos, nats, shards, keyFile, SelfCommand(), TimeSpan.FromSeconds(120), host, tls, tlsFiles).GetAwaiter().GetResult();
        var file = Path.Combine(config.Data, "cluster.json");
        WorkerCommands.Start(config, file, workers, ackWait);
        if (json) Console.Out.WriteLine(new JsonObject { ["cluster"] = file, ["silos"] = silos, ["nats"] = nats, ["shards"] = shards, ["workers"] = workers }.ToJsonString());
        else Console.Out.WriteLine($"cluster up: {silos} silos, {nats} NATS nodes, {shards} shards, {workers} workers; {file}");
        return 0;
    }

    static ClusterConfig Load(Args a) => ClusterConfig.Load(a.Get("cluster") ?? throw new UsageException("--cluster FILE is required (DIR/cluster.json from cluster up)"));

    static int Status(Args a)
    {
        var config = Load(a);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var nodes = LocalCluster.Status(config);
        if (json)
            Console.Out.WriteLine(new JsonObject
            {
                ["shards"] = config.Shards,
                ["nodes"] = new JsonArray(nodes.Select(n => (JsonNode)new JsonObject
                    { ["role"] = n.Role, ["name"] = n.Name, ["pid"] = n.Pid, ["port"] = n.Port, ["healthy"] = n.Healthy }).ToArray()),
            }.ToJsonString());
        else
            foreach (var n in nodes) Console.Out.WriteLine($"{n.Role,-6} {n.Name,-8} pid {n.Pid,-8} port {n.Port,-6} {(n.Healthy ? "healthy" : "DOWN")}");
        return nodes.All(n => n.Healthy) ? 0 : 1;
    }

    static int Down(Args a)
    {
        var config = Load(a);
        a.EnsureAllUsed();
        LocalCluster.Down(config);
        Console.Out.WriteLine($"cluster down: {config.Nodes.Count} processes stopped");
        return 0;
    }

    static int Silo(Args a)
    {
        var file = a.Get("cluster") ?? throw new UsageException("--cluster FILE is required");
        var name = a.Get("name") ?? throw new UsageException("--name is required");
        a.EnsureAllUsed();
        var config = ClusterConfig.Load(file);
        var node = config.Nodes.FirstOrDefault(n => n.Role == "silo" && n.Name == name) ?? throw new UsageException($"{file}: no silo named '{name}'");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        SiloHost.RunAsync(config, node, stop.Token).GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>`ingest PATH... --cluster FILE`: the pipeline runs here, studies go to the log; returns once every shard applied them.</summary>
    public static int Ingest(Args a, string clusterFile)
    {
        if (a.Positional.Count == 0) throw new UsageException("ingest needs at least one PATH");
        var config = ClusterConfig.Load(clusterFile);
        var json = a.Flag("json");
        var options = new IngestOptions { Message = a.Get("message") };
        if (a.Long("batch") is { } b) options.BatchSize = (int)b;
        if (a.Flag("no-text-deid")) options.TextDeidentification = null;
        options.Fhir.Issuer = a.Get("fhir-issuer"); // FHIR patients' issuer, as one node (their events go to the log: docs/cluster.md)
        a.EnsureAllUsed();
        var result = Task.Run(async () =>
        {
            await using var client = await ClusterClient.ConnectAsync(config);
            return await client.IngestAsync(a.Positional, options);
        }).GetAwaiter().GetResult();
        foreach (var e in result.Errors) Console.Error.WriteLine($"casebook: {e.File}: {e.Reason}");
        if (json)
            Console.Out.WriteLine(new JsonObject
            {
                // Same keys as single node; "versions" is empty (each shard has its own), "applied" gives each shard's log sequence.
                ["found"] = result.Found, ["inserted"] = result.Appended, ["updated"] = 0, ["unchanged"] = result.Unchanged, ["versions"] = new JsonArray(),
                ["errors"] = new JsonArray(result.Errors.Select(e => (JsonNode)new JsonObject { ["file"] = e.File, ["reason"] = e.Reason }).ToArray()),
                ["applied"] = new JsonObject(result.Applied.OrderBy(kv => kv.Key).Select(kv => KeyValuePair.Create(kv.Key.ToString(), (JsonNode?)kv.Value))),
            }.ToJsonString());
        else Console.Out.WriteLine($"{result.Found} studies found: {result.Appended} appended to the log and applied by {result.Applied.Count} shards, {result.Errors.Count} errors");
        return result.Errors.Count > 0 ? 1 : 0;
    }

    /// <summary>`search TEXT --cluster FILE`: scatter-gather; prints the single-node JSON (SearchResultJson).</summary>
    public static int Search(Args a, string clusterFile)
    {
        var text = a.Positional.Count > 0 ? string.Join(' ', a.Positional) : null;
        var imagePath = a.Get("image");
        if (text == null && imagePath == null) throw new UsageException("search needs TEXT, --image FILE, or both");
        if (imagePath != null && !File.Exists(imagePath)) throw new UsageException($"--image: no such file '{imagePath}'");
        var request = new ShardSearchRequest
        {
            Text = text, Filter = a.Get("where"), AsOfLogSeq = a.Long("as-of"), // a log sequence (docs/cluster.md, "Time travel")
            // The coordinator embeds the image once (as one node would), shards search their image slices with it.
            ImageVector = imagePath == null ? null : ShardSearch.EmbedImageQuery(Casebook.Embed.EmbedderCache.Image(null), File.ReadAllBytes(imagePath)),
            Exact = a.Flag("exact"), Expand = !a.Flag("no-expansion"),
            Limit = (int)(a.Long("limit") ?? 10),
            Mode = a.Get("mode") switch
            {
                null or "hybrid" => SearchMode.Hybrid, "bm25" => SearchMode.Bm25, "dense" => SearchMode.Dense,
                var m => throw new UsageException($"--mode must be bm25, dense or hybrid, not '{m}'"),
            },
        };
        if (request.Limit < 1) throw new UsageException("--limit must be at least 1");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var config = ClusterConfig.Load(clusterFile);
        var result = Task.Run(async () =>
        {
            await using var client = await ClusterClient.ConnectAsync(config);
            return await client.SearchAsync(request);
        }).GetAwaiter().GetResult();
        if (json) Console.Out.WriteLine(SearchResultJson.Serialize(result));
        else Commands.PrintSearch(result);
        return 0;
    }
}
