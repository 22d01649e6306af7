using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Audit;
using Casebook.Server.Security;

namespace Casebook.Cli;

/// <summary>The server verbs: `serve` runs the HTTP server, `keys` makes and lists API keys, `audit` reads and checks the audit log.</summary>
public static class ServerCommands
{
    static readonly HashSet<string> BooleanFlags = ["json", "insecure-http", "verify", "any-called-ae"];

    public static int Serve(string[] rest)
    {
        var a = new Args(rest, BooleanFlags);
        if (a.Positional.Count > 0) throw new UsageException($"serve takes no positional arguments (got '{a.Positional[0]}')");
        // --cluster FILE: serve the cluster; --db (default DATA/server beside cluster.json) then holds only keys and audit.
        var clusterFile = a.Get("cluster");
        var dir = a.Get("db") ?? (clusterFile != null ? Casebook.Cluster.ClusterConfig.Load(clusterFile).ServerDirectory : Commands.DefaultDb);
        var options = new ServerOptions
        {
            DbDirectory = dir, ClusterFile = clusterFile,
            KeyFile = a.Get("key-file"),
            Port = (int)(a.Long("port") ?? 5080),
            Bind = a.Get("bind") ?? "127.0.0.1",
            TlsCertPath = a.Get("tls-cert"),
            TlsKeyPath = a.Get("tls-key"),
            TlsCertPassword = Environment.GetEnvironmentVariable("CASEBOOK_TLS_PASSWORD"),
            InsecureHttp = a.Flag("insecure-http"),
            JwtKeyFile = a.Get("jwt-key-file"),
            RequestsPerWindow = (int)(a.Long("rate-limit") ?? 600),
            IngestBatchSize = a.Long("ingest-batch") is { } batch ? (int)batch : null,
            // Hospital feeds (docs/feeds.md): off unless their ports are given.
            DimsePort = a.Long("dimse-port") is { } dimse ? (int)dimse : null,
            AeTitle = a.Get("ae-title") ?? "CASEBOOK",
            CheckCalledAe = !a.Flag("any-called-ae"),
            AllowedCallingAes = a.Get("calling-aes") is { } aes ? aes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet() : null,
            MllpPort = a.Long("mllp-port") is { } mllp ? (int)mllp : null,
        };
        a.EnsureAllUsed();
        if (clusterFile == null && !File.Exists(Path.Combine(dir, "casebook.db")))
            throw new InvalidOperationException($"no Casebook database at '{dir}' (run ./casebook ingest or ./casebook demo first, or pass --db)");
        var server = CasebookServer.Create(options);
        server.StartAsync().GetAwaiter().GetResult();
        // The host's console lifetime turns Ctrl-C and SIGTERM into "stopping".
        var stopping = new TaskCompletionSource();
        server.App.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        // stdout: the address, one line, so scripts (and tests with --port 0) can find the server.
        Console.Out.WriteLine(server.Urls[0]);
        Console.Out.Flush();
        Console.Error.WriteLine($"casebook: serving {(clusterFile != null ? "the cluster " + Path.GetFullPath(clusterFile) : Path.GetFullPath(dir))} on {server.Urls[0]} (search page /, API /api, OpenAPI /openapi/v1.json, API page /scalar); Ctrl-C stops");
        if (server.DimsePort is { } dp) Console.Error.WriteLine($"casebook: DICOM C-ECHO/C-STORE SCP as AE '{options.AeTitle}' on port {dp}");
        if (server.MllpPort is { } mp) Console.Error.WriteLine($"casebook: HL7 v2 over MLLP on port {mp}");
        stopping.Task.Wait();
        Console.Error.WriteLine("casebook: stopping (a running ingest job finishes first)…");
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    public static int Keys(string[] rest)
    {
        var a = new Args(rest, BooleanFlags);
        var sub = a.Positional.Count > 0 ? a.Positional[0] : throw new UsageException("usage: keys create --role R [--label L] | keys list [--json] | keys revoke ID");
        var store = new ServerStore(ClusterMaintenanceCommands.ServerDirectory(a) ?? a.Get("db") ?? Commands.DefaultDb); // --cluster F: the served cluster's
        var keys = new ApiKeyStore(store);
        switch (sub)
        {
            case "create":
            {
                var role = a.Get("role") ?? throw new UsageException($"keys create needs --role ({string.Join("|", Roles.All)})");
                if (!Roles.IsKnown(role)) throw new UsageException($"--role must be one of {string.Join(", ", Roles.All)}, not '{role}'");
                var label = a.Get("label");
                a.EnsureAllUsed();
                var (id, key) = keys.Create(role, label);
                new AuditLog(store).Append($"cli:{Environment.UserName}", "admin", "keys.create", $"key {id}", "local", "success", role);
                // Contract: the key is printed once, alone on the last line of stdout.
                Console.Out.WriteLine($"made {role} key {id}; it is shown only now, store it safely:");
                Console.Out.WriteLine(key);
                return 0;
            }
            case "list":
            {
                var json = a.Flag("json");
                a.EnsureAllUsed();
                var list = keys.List();
                if (json)
                    Console.Out.WriteLine(new JsonObject
                    {
                        ["keys"] = new JsonArray(list.Select(k => (JsonNode)new JsonObject
                            { ["key_id"] = k.KeyId, ["role"] = k.Role, ["label"] = k.Label, ["created"] = k.Created, ["revoked"] = k.Revoked }).ToArray()),
                    }.ToJsonString(Commands.JsonOut));
                else foreach (var k in list) Console.Out.WriteLine($"{k.KeyId}  {k.Role,-10}  {k.Created}  {(k.Revoked != null ? "revoked " + k.Revoked : "live")}  {k.Label}");
                return 0;
            }
            case "revoke":
            {
                if (a.Positional.Count != 2) throw new UsageException("keys revoke needs one key id");
                a.EnsureAllUsed();
                if (!keys.Revoke(a.Positional[1])) throw new ArgumentException($"no live key '{a.Positional[1]}'");
                new AuditLog(store).Append($"cli:{Environment.UserName}", "admin", "keys.revoke", $"key {a.Positional[1]}", "local", "success");
                Console.Out.WriteLine($"revoked key {a.Positional[1]}");
                return 0;
            }
            default: throw new UsageException($"unknown keys command '{sub}' (create, list, revoke)");
        }
    }

    /// <summary>Prints the audit log (JSON: the same shape as GET /api/audit); --verify checks the hash chain and exits 1 when it is broken.</summary>
    public static int Audit(string[] rest)
    {
        var a = new Args(rest, BooleanFlags);
        var store = new ServerStore(ClusterMaintenanceCommands.ServerDirectory(a) ?? a.Get("db") ?? Commands.DefaultDb); // --cluster F: the served cluster's
        var json = a.Flag("json");
        var verify = a.Flag("verify");
        var after = a.Long("after") ?? 0;
        var limit = a.Long("limit") ?? int.MaxValue;
        a.EnsureAllUsed();
        var log = new AuditLog(store);
        var entries = log.Read(after, (int)Math.Min(limit, int.MaxValue));
        var check = verify ? log.Verify() : null;
        if (json) Console.Out.WriteLine(AuditJson.ToJson(entries, check).ToJsonString(Commands.JsonOut));
        else
        {
            foreach (var e in entries)
                Console.Out.WriteLine($"{e.Seq,6}  {e.Time}  {e.Actor,-22} {e.Role,-10} {e.Action,-14} {e.Outcome,-16} {e.Remote,-15} {e.Target}{(e.Detail != null ? "  — " + e.Detail : "")}");
            if (check != null)
                Console.Out.WriteLine(check.Intact ? $"audit chain intact: {check.Entries} entries" : $"audit chain BROKEN at entry {check.FirstBadSeq}: {check.Reason}");
        }
        return check is { Intact: false } ? 1 : 0;
    }
}
