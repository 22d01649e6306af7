using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Casebook.Cluster;

/// <summary>
/// A complete cluster on loopback as separate processes (`casebook cluster up`): M nats-server processes forming one
/// JetStream cluster, a redis-server for Orleans membership, N silo processes. Processes are started in their own
/// session so they outlive the command; DIR/cluster.json records them for `status` and `down`.
/// </summary>
public static class LocalCluster
{
    public static string Require(string binary)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"]))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, binary))) return Path.Combine(dir, binary);
        throw new FileNotFoundException($"{binary} is not installed (Debian package {binary}; scripts/setup-system.sh installs it)");
    }

    /// <param name="siloCommand">How to start a silo: program and the arguments before `cluster silo …` (the CLI itself).</param>
    /// <param name="host">The address every node listens on (127.0.0.1; any local address, e.g. 127.0.0.2).</param>
    /// <param name="tls">TLS everywhere (docs/cluster.md): with <paramref name="tlsFiles"/> those, else a private CA and node certificate made under DIR/tls.</param>
    public static async Task<ClusterConfig> UpAsync(string data, int silos, int nats, int shards, string? keyFile, (string Program, string[] Args) siloCommand, TimeSpan timeout,
        string host = "127.0.0.1", bool tls = false, ClusterTlsFiles? tlsFiles = null)
    {
        if (silos < 1 || nats < 1) throw new ArgumentException("--silos and --nats must be at least 1");
        var natsServer = Require("nats-server");
        var redisServer = Require("redis-server");
        data = Path.GetFullPath(data);
        Directory.CreateDirectory(data);
        var file = Path.Combine(data, "cluster.json");
        if (File.Exists(file) && ClusterConfig.Load(file).Nodes.Any(n => Alive(n.Pid)))
            throw new InvalidOperationException($"{file}: a cluster is already running there (casebook cluster down --cluster {file})");
        var config = new ClusterConfig { Data = data, Shards = shards, KeyFile = keyFile == null ? null : Path.GetFullPath(keyFile) };
        if (tlsFiles != null) ClusterTls.Check(config.Tls = new ClusterTlsFiles { Ca = Path.GetFullPath(tlsFiles.Ca), Cert = Path.GetFullPath(tlsFiles.Cert), Key = Path.GetFullPath(tlsFiles.Key) });
        else if (tls) config.Tls = ClusterTls.MakeLocal(Path.Combine(data, "tls"), [host]);
        try
        {
            // NATS: every node routes to every other; JetStream stores under DIR/nats/<name>.
            var natsNodes = Enumerable.Range(1, nats).Select(i => new ClusterNode { Role = "nats", Name = $"nats-{i}", Host = host, Port = FreePort(), Port2 = FreePort(), Dir = Path.Combine(data, "nats", $"nats-{i}") }).ToList();
            foreach (var n in natsNodes)
            {
                Directory.CreateDirectory(n.Dir);
                var conf = new StringBuilder();
                conf.AppendLine($"server_name: {n.Name}\nlisten: {host}:{n.Port}\nmax_payload: 8MB");
                if (config.Tls != null) conf.AppendLine(ClusterTls.NatsBlock(config.Tls)); // clients: mutual TLS
                conf.AppendLine($"jetstream {{ store_dir: \"{n.Dir}/js\", max_memory_store: 64MB, max_file_store: 8GB }}");
                if (nats > 1)
                    conf.AppendLine($"cluster {{ name: casebook, listen: {host}:{n.Port2}, {(config.Tls != null ? ClusterTls.NatsBlock(config.Tls) + ", " : "")}routes: [{string.Join(", ", natsNodes.Where(o => o != n).Select(o => $"nats-route://{host}:{o.Port2}"))}] }}");
                File.WriteAllText(Path.Combine(n.Dir, "nats.conf"), conf.ToString());
                n.Log = Path.Combine(n.Dir, "nats.log");
                n.Pid = Spawn(natsServer, ["-c", Path.Combine(n.Dir, "nats.conf")], n.Log);
                config.Nodes.Add(n);
            }
            config.Nats = natsNodes.Select(n => $"nats://{host}:{n.Port}").ToList();
            var redis = new ClusterNode { Role = "redis", Name = "redis", Host = host, Port = FreePort(), Dir = Path.Combine(data, "redis") };
            Directory.CreateDirectory(redis.Dir);
            redis.Log = Path.Combine(redis.Dir, "redis.log");
            string[] listen = config.Tls != null ? ClusterTls.RedisArgs(config.Tls, redis.Port) : ["--port", redis.Port.ToString()];
            redis.Pid = Spawn(redisServer, [.. listen, "--bind", host, "--dir", redis.Dir, "--save", "", "--appendonly", "no"], redis.Log);
            config.Nodes.Add(redis);
            config.Redis = $"{host}:{redis.Port}";
            config.Save(file);
            await WaitPort(host, redis.Port, timeout);
            foreach (var n in natsNodes) await WaitPort(host, n.Port, timeout);
            await using (var log = new ClusterLog(config)) await log.EnsureAsync(timeout);
            for (var i = 1; i <= silos; i++) StartSilo(config, file, $"silo-{i}", siloCommand, host);
            config.Save(file);
            foreach (var s in config.Nodes.Where(n => n.Role == "silo")) await WaitPort(s.Address, s.Port2, timeout);
            // "Up" means the cluster answers: every shard activated (restored, replayed) and reporting.
            await using (var client = await ClusterClient.ConnectAsync(config))
            {
                await client.WaitForSilosAsync(silos, timeout);
                await client.StatusAsync();
            }
            return config;
        }
        catch
        {
            Down(config);
            throw;
        }
    }

    /// <summary>Starts one more silo process (also how a killed silo is replaced).</summary>
    public static ClusterNode StartSilo(ClusterConfig config, string file, string name, (string Program, string[] Args) siloCommand, string? host = null)
    {
        var node = config.Nodes.FirstOrDefault(n => n.Name == name) ?? new ClusterNode { Role = "silo", Name = name, Host = host, Dir = Path.Combine(config.Data, "silos", name) };
        if (!config.Nodes.Contains(node)) config.Nodes.Add(node);
        node.Port = FreePort();
        node.Port2 = FreePort();
        Directory.CreateDirectory(node.Dir);
        node.Log = Path.Combine(node.Dir, "silo.log");
        config.Save(file);
        node.Pid = Spawn(siloCommand.Program, [.. siloCommand.Args, "cluster", "silo", "--cluster", file, "--name", name], node.Log);
        config.Save(file);
        return node;
    }

    /// <summary>Starts a stopped NATS node again with its configuration and store: it rejoins and catches up.</summary>
    public static void RestartNats(ClusterConfig config, string file, string name)
    {
        var n = config.Nodes.Single(x => x.Role == "nats" && x.Name == name);
        if (Alive(n.Pid)) throw new InvalidOperationException($"{name} is running (pid {n.Pid})");
        n.Pid = Spawn(Require("nats-server"), ["-c", Path.Combine(n.Dir, "nats.conf")], n.Log);
        config.Save(file);
    }

    public static void Down(ClusterConfig config)
    {
        // Workers and silos first (they hold the log open), then NATS and Redis.
        foreach (var n in config.Nodes.OrderBy(n => n.Role is "silo" or "worker" ? 0 : 1))
        {
            if (!Alive(n.Pid)) continue;
            try { using var p = Process.GetProcessById(n.Pid); p.Kill(entireProcessTree: true); p.WaitForExit(10_000); }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        }
    }

    public sealed record NodeHealth(string Role, string Name, int Pid, int Port, bool Healthy);

    /// <summary>Each node: its process is alive and its port accepts connections (a silo: its gateway port). A node with
    /// pid 0 runs on another machine (written by hand in a multi-machine cluster.json): its port alone says.</summary>
    public static List<NodeHealth> Status(ClusterConfig config) =>
        config.Nodes.Select(n => new NodeHealth(n.Role, n.Name, n.Pid, n.Role == "silo" ? n.Port2 : n.Port,
            n.Role == "worker" ? Workers.LocalWorkers.Healthy(n) : (n.Pid == 0 || Alive(n.Pid)) && Accepts(n.Address, n.Role == "silo" ? n.Port2 : n.Port))).ToList();

    public static bool Alive(int pid)
    {
        if (pid <= 0) return false;
        // A zombie or a reused pid is not our node: /proc/<pid>/stat state Z counts as dead.
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try { var s = File.ReadAllText(stat); return s[(s.LastIndexOf(')') + 2)] != 'Z'; } catch (IOException) { return false; }
    }

    static bool Accepts(string host, int port)
    {
        try { using var c = new TcpClient(); return c.ConnectAsync(host, port).Wait(1000) && c.Connected; }
        catch (Exception) { return false; }
    }

    static async Task WaitPort(string host, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Accepts(host, port))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"nothing listens on {host}:{port} after {timeout.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts a process in its own session (setsid) with output to a log file, so it outlives this command.</summary>
    internal static int Spawn(string program, string[] args, string logFile)
    {
        static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false };
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"exec {Q(program)} {string.Join(' ', args.Select(Q))} >{Q(logFile)} 2>&1 </dev/null");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        return p.Id;
    }
}
