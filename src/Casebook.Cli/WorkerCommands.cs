using Casebook.Cluster;
using Casebook.Cluster.Workers;

namespace Casebook.Cli;

/// <summary>`cluster worker` and `cluster up --workers K` (docs/cluster.md, "Workers").</summary>
public static class WorkerCommands
{
    public static (int Workers, double? AckWait) UpOptions(Args a)
    {
        var workers = (int)(a.Long("workers") ?? 0);
        if (workers < 0) throw new UsageException("--workers must be 0 or more");
        double? ackWait = a.Get("work-ack-wait") is { } s
            ? double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 1 ? v : throw new UsageException($"--work-ack-wait must be a number of seconds ≥ 1, not '{s}'")
            : null;
        return (workers, ackWait);
    }

    /// <summary>After `cluster up`: records the ack wait and starts the workers; returns once each one pulls.</summary>
    public static void Start(ClusterConfig config, string file, int workers, double? ackWait)
    {
        if (ackWait is { } w) { config.WorkAckWaitSeconds = w; config.Save(file); }
        if (workers == 0) return;
        try { LocalWorkers.StartAsync(config, file, workers, ClusterCommands.SelfCommand(), TimeSpan.FromSeconds(120)).GetAwaiter().GetResult(); }
        catch { LocalCluster.Down(config); throw; }
    }

    /// <summary>`cluster worker --cluster FILE --name NAME`: runs until stopped (SIGINT/SIGTERM).</summary>
    public static int Worker(Args a)
    {
        var file = a.Get("cluster") ?? throw new UsageException("--cluster FILE is required");
        var name = a.Get("name") ?? throw new UsageException("--name is required");
        a.EnsureAllUsed();
        var config = ClusterConfig.Load(file);
        var node = config.Nodes.FirstOrDefault(n => n.Role == "worker" && n.Name == name) ?? throw new UsageException($"{file}: no worker named '{name}'");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { stop.Cancel(); } catch (ObjectDisposedException) { } }; // SIGTERM
        try { WorkerHost.RunAsync(config, node, stop.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        return 0;
    }
}
