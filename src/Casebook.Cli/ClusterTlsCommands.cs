using System.Net;
using Casebook.Cluster;

namespace Casebook.Cli;

/// <summary>`cluster up` options for TLS and the listen address (docs/cluster.md, "TLS" and "Multi-machine deployment").</summary>
public static class ClusterTlsCommands
{
    /// <summary>--host ADDR (default 127.0.0.1); --tls, optionally with the deployment's --tls-ca/--tls-cert/--tls-key PEM files.</summary>
    public static (string Host, bool Tls, ClusterTlsFiles? Files) UpOptions(Args a)
    {
        var host = a.Get("host") ?? "127.0.0.1";
        if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) == UriHostNameType.Unknown) throw new UsageException($"--host '{host}' is not an address or host name");
        var tls = a.Flag("tls");
        var (ca, cert, key) = (a.Get("tls-ca"), a.Get("tls-cert"), a.Get("tls-key"));
        if (ca == null && cert == null && key == null) return (host, tls, null);
        if (ca == null || cert == null || key == null) throw new UsageException("--tls-ca, --tls-cert and --tls-key go together (PEM files of the deployment's CA and this node)");
        foreach (var (flag, path) in new[] { ("--tls-ca", ca), ("--tls-cert", cert), ("--tls-key", key) })
            if (!File.Exists(path)) throw new UsageException($"{flag}: file not found: {path}");
        return (host, true, new ClusterTlsFiles { Ca = ca, Cert = cert, Key = key });
    }
}
