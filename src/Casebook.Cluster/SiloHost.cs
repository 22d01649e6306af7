using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Casebook.Cluster;

/// <summary>Membership and failure detection shared by silos and clients (Redis holds the membership table).</summary>
static class Membership
{
    public const string ClusterId = "casebook", ServiceId = "casebook";

    public static void Configure(ClusterOptions o) { o.ClusterId = ClusterId; o.ServiceId = ServiceId; }

    // Loopback and small clusters: probe often and let one vote declare a silo dead, so a killed silo's shards move
    // within seconds instead of the defaults' minute (which assume many silos voting).
    public static void Configure(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 2;
        o.NumVotesForDeathDeclaration = 1;
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
    }
}

/// <summary>A silo process (`casebook cluster silo --cluster FILE --index I`): hosts shard grains on this machine's disk.</summary>
public static class SiloHost
{
    public static async Task RunAsync(ClusterConfig config, ClusterNode node, CancellationToken ct)
    {
        var log = new ClusterLog(config);
        await log.EnsureAsync(TimeSpan.FromSeconds(60), ct);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Casebook.Cluster", LogLevel.Information);
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(new ShardHostOptions { DataDirectory = Path.Combine(node.Dir, "shards"), Config = config, SiloName = node.Name });
        builder.UseOrleans(silo =>
        {
            silo.UseRedisClustering(o => ClusterTls.Redis(o, config));
            silo.Configure<ClusterOptions>(Membership.Configure);
            silo.Configure<ClusterMembershipOptions>(Membership.Configure);
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(60));
            // The node's host (cluster.json) is where it listens and what it advertises to the others (127.0.0.1 by default).
            silo.ConfigureEndpoints(AddressOf(node), node.Port, node.Port2);
            if (config.Tls is { } tls) silo.UseTls(o => ClusterTls.Orleans(o, tls));
        });
        using var host = builder.Build();
        await host.RunAsync(ct);
    }

    /// <summary>A node's host as an IPv4 address (a name is resolved once, at start).</summary>
    public static IPAddress AddressOf(ClusterNode node) =>
        IPAddress.TryParse(node.Address, out var ip) ? ip
        : Dns.GetHostAddresses(node.Address).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
          ?? throw new InvalidOperationException($"cluster.json: silo {node.Name}: host '{node.Address}' has no IPv4 address");
}
