namespace Casebook.Cluster.Workers;

/// <summary>Worker processes of a local cluster (`cluster up --workers K`), recorded in cluster.json with role "worker".</summary>
public static class LocalWorkers
{
    /// <summary>Starts worker processes worker-1..K (or more after those already recorded) and waits until each pulls.</summary>
    public static async Task<List<ClusterNode>> StartAsync(ClusterConfig config, string file, int count, (string Program, string[] Args) command, TimeSpan timeout)
    {
        var started = new List<ClusterNode>();
        var first = config.Nodes.Count(n => n.Role == "worker") + 1;
        for (var i = first; i < first + count; i++) started.Add(Start(config, file, $"worker-{i}", command));
        var deadline = DateTime.UtcNow + timeout;
        while (!started.All(Healthy))
        {
            if (started.FirstOrDefault(n => !LocalCluster.Alive(n.Pid)) is { } dead)
                throw new InvalidOperationException($"{dead.Name} exited at start; see {dead.Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"workers did not start pulling in {timeout.TotalSeconds:0} s; see {started[0].Log}");
            await Task.Delay(200);
        }
        return started;
    }

    /// <summary>Starts one worker process (also how a killed worker is replaced: same name, same folder).</summary>
    public static ClusterNode Start(ClusterConfig config, string file, string name, (string Program, string[] Args) command)
    {
        var node = config.Nodes.FirstOrDefault(n => n.Name == name) ?? new ClusterNode { Role = "worker", Name = name, Dir = Path.Combine(config.Data, "workers", name) };
        if (!config.Nodes.Contains(node)) config.Nodes.Add(node);
        Directory.CreateDirectory(node.Dir);
        File.Delete(Path.Combine(node.Dir, WorkerHost.HeartbeatFile));
        node.Log = Path.Combine(node.Dir, "worker.log");
        config.Save(file);
        node.Pid = LocalCluster.Spawn(command.Program, [.. command.Args, "cluster", "worker", "--cluster", file, "--name", name], node.Log);
        config.Save(file);
        return node;
    }

    /// <summary>A worker is healthy while its process lives and its heartbeat (written every 2 s once it pulls) is under 10 s old.</summary>
    public static bool Healthy(ClusterNode node)
    {
        var beat = Path.Combine(node.Dir, WorkerHost.HeartbeatFile);
        return LocalCluster.Alive(node.Pid) && File.Exists(beat) && DateTime.UtcNow - File.GetLastWriteTimeUtc(beat) < TimeSpan.FromSeconds(10);
    }
}
