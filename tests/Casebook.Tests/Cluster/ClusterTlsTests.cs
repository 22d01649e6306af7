using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using NATS.Client.Core;

namespace Casebook.Tests.Cluster;

/// <summary>
/// A small TLS cluster (`cluster up --tls --host 127.0.0.2`: 3 NATS with TLS routes, Redis on a TLS port, 2 silos with
/// mutual TLS, 4 shards) on a loopback address other than the default, and the same corpus in one node.
/// </summary>
public sealed class TlsClusterFixture : IDisposable
{
    public const string Host = "127.0.0.2";
    public TempDirectory Dir { get; } = new();
    public string ClusterFile => Dir["cluster/cluster.json"];
    public string SingleDb => Dir["single"];

    public TlsClusterFixture()
    {
        LocalCluster.Require("nats-server");
        LocalCluster.Require("redis-server");
        ClusterCorpus.Write(Dir["corpus"], 0, 16);
        Cli("cluster", "up", "--tls", "--host", Host, "--silos", "2", "--nats", "3", "--shards", "4", "--data", Dir["cluster"]);
        Cli("ingest", Dir["corpus"], "--cluster", ClusterFile, "--json");
        Cli("ingest", Dir["corpus"], "--db", SingleDb, "--json");
    }

    public string Cli(params string[] args)
    {
        var (code, stdout, stderr) = CliProcess.Run(Dir.Path, Dir.KeyFile, TimeSpan.FromMinutes(4), args);
        if (code != 0) throw new InvalidOperationException($"casebook {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        if (File.Exists(ClusterFile)) LocalCluster.Down(ClusterConfig.Load(ClusterFile));
        Dir.Dispose();
    }
}

public sealed class ClusterTlsTests(TlsClusterFixture f) : IClassFixture<TlsClusterFixture>
{
    ClusterConfig Config => ClusterConfig.Load(f.ClusterFile);

    [Fact]
    public void Tls_cluster_on_its_own_address_ingests_and_searches_like_one_node()
    {
        var config = Config;
        Assert.NotNull(config.Tls);
        Assert.All([config.Tls!.Ca, config.Tls.Cert, config.Tls.Key], p => Assert.True(File.Exists(p), p));
        Assert.All(config.Nodes, n => Assert.Equal(TlsClusterFixture.Host, n.Host));
        Assert.All(config.Nats, u => Assert.StartsWith($"nats://{TlsClusterFixture.Host}:", u));
        // NATS: TLS for clients and for routes, both verifying the peer's certificate.
        var conf = File.ReadAllText(Path.Combine(config.Nodes.First(n => n.Role == "nats").Dir, "nats.conf"));
        Assert.Equal(2, conf.Split("verify: true").Length - 1);
        // The silos listen on the configured host, not on the default loopback address.
        var silo = config.Nodes.First(n => n.Role == "silo");
        Assert.True(Connects(TlsClusterFixture.Host, silo.Port2));
        Assert.False(Connects("127.0.0.1", silo.Port2), "the silo gateway also answers on 127.0.0.1");

        var status = JsonNode.Parse(f.Cli("cluster", "status", "--cluster", f.ClusterFile, "--json"))!["nodes"]!.AsArray();
        Assert.All(status, n => Assert.True((bool)n!["healthy"]!, n.ToJsonString()));
        foreach (var q in new[] { "pleural effusion", "aneurysm", "fibrosis thrombus cyst" })
        {
            var one = JsonNode.Parse(f.Cli("search", q, "--mode", "bm25", "--json", "--db", f.SingleDb))!["results"]!.ToJsonString();
            var cluster = JsonNode.Parse(f.Cli("search", q, "--mode", "bm25", "--json", "--cluster", f.ClusterFile))!["results"]!.ToJsonString();
            Assert.Equal(one, cluster);
        }
        Assert.Contains("\"study_id\"", JsonNode.Parse(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--cluster", f.ClusterFile))!.ToJsonString());
    }

    [Fact]
    public async Task A_plaintext_connection_is_refused()
    {
        var config = Config;
        // NATS says TLS is required and drops a client that does not upgrade.
        await using (var plain = new NatsConnection(new NatsOpts { Url = config.Nats[0], TlsOpts = new NatsTlsOpts { Mode = TlsMode.Disable }, ConnectTimeout = TimeSpan.FromSeconds(5) }))
            await Assert.ThrowsAnyAsync<NatsException>(async () => await plain.ConnectAsync());
        // Redis listens only on its TLS port: a plaintext PING gets no PONG.
        var redis = config.Nodes.Single(n => n.Role == "redis");
        Assert.DoesNotContain("PONG", PlainExchange(redis.Address, redis.Port, "PING\r\n"));
        // The coordinator without a tls section is stopped at once with the reason.
        config.Tls = null;
        var e = await Assert.ThrowsAsync<ClusterTlsException>(async () => await ClusterClient.ConnectAsync(config));
        Assert.Contains("requires TLS", e.Message);
        Assert.Contains("\"tls\" section", e.Message);
    }

    [Fact]
    public async Task A_client_without_the_deployment_CA_fails_with_a_clear_error()
    {
        // Another deployment's CA and certificate: valid TLS material, but not this cluster's.
        var other = ClusterTls.MakeLocal(f.Dir["other-tls"], [TlsClusterFixture.Host]);
        var config = Config;
        var own = config.Tls!;

        config.Tls = new ClusterTlsFiles { Ca = other.Ca, Cert = other.Cert, Key = other.Key };
        var e = await Assert.ThrowsAsync<ClusterTlsException>(async () => await ClusterClient.ConnectAsync(config));
        Assert.Contains("not signed by the CA in tls.ca", e.Message);
        Assert.Contains(other.Ca, e.Message);

        // Trusting the right CA but presenting a foreign certificate: the server refuses the client.
        config.Tls = new ClusterTlsFiles { Ca = own.Ca, Cert = other.Cert, Key = other.Key };
        e = await Assert.ThrowsAsync<ClusterTlsException>(async () => await ClusterClient.ConnectAsync(config));
        Assert.Contains(other.Cert, e.Message);

        // The silos and Redis refuse it too; with the deployment's certificate Redis answers.
        var silo = config.Nodes.First(n => n.Role == "silo");
        var redis = config.Nodes.Single(n => n.Role == "redis");
        Assert.False(await TlsExchange(silo.Address, silo.Port, other, null), "a silo accepted a certificate from another CA");
        Assert.False(await TlsExchange(redis.Address, redis.Port, other, "PING\r\n"), "Redis accepted a certificate from another CA");
        Assert.True(await TlsExchange(redis.Address, redis.Port, own, "PING\r\n"), "Redis refused the deployment's own certificate");

        // A missing file is named.
        config.Tls = new ClusterTlsFiles { Ca = own.Ca + ".missing", Cert = own.Cert, Key = own.Key };
        var missing = await Assert.ThrowsAsync<FileNotFoundException>(async () => await ClusterClient.ConnectAsync(config));
        Assert.Contains("tls.ca", missing.Message);
    }

    static bool Connects(string host, int port)
    {
        try { using var c = new TcpClient(); return c.ConnectAsync(host, port).Wait(2000) && c.Connected; }
        catch (Exception) { return false; }
    }

    static string PlainExchange(string host, int port, string send)
    {
        using var c = new TcpClient(host, port);
        var s = c.GetStream();
        s.ReadTimeout = 3000;
        s.Write(Encoding.ASCII.GetBytes(send));
        var buffer = new byte[256];
        try { return Encoding.ASCII.GetString(buffer, 0, s.Read(buffer)); }
        catch (IOException) { return ""; }
    }

    /// <summary>
    /// A mutual-TLS exchange with <paramref name="files"/>' certificate: true when the server kept the connection
    /// (answered <paramref name="send"/>, or, with nothing to send, did not close it within 3 s).
    /// </summary>
    static async Task<bool> TlsExchange(string host, int port, ClusterTlsFiles files, string? send)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        using var ca = ClusterTls.Ca(files);
        using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        using var cert = ClusterTls.NodeCertificate(files);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host, ClientCertificates = [cert] });
            if (send != null) await ssl.WriteAsync(Encoding.ASCII.GetBytes(send));
            var buffer = new byte[256];
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            var n = await ssl.ReadAsync(buffer, wait.Token);
            return n > 0 && (send == null || Encoding.ASCII.GetString(buffer, 0, n).Contains("PONG"));
        }
        catch (OperationCanceledException) { return send == null; } // kept open, silent: accepted
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException) { return false; }
    }
}

/// <summary>The certificate material and the `cluster up` TLS options, without a cluster.</summary>
public sealed class ClusterTlsFileTests
{
    [Fact]
    public void Made_certificates_chain_to_their_own_CA_only_and_name_the_host()
    {
        using var dir = new TempDirectory();
        var a = ClusterTls.MakeLocal(dir["a"], ["10.0.0.11", "casebook-a"]);
        var b = ClusterTls.MakeLocal(dir["b"], []);
        ClusterTls.Check(a);
        using var caA = ClusterTls.Ca(a);
        using var caB = ClusterTls.Ca(b);
        using var nodeA = ClusterTls.NodeCertificate(a);
        Assert.True(nodeA.HasPrivateKey);
        Assert.True(ClusterTls.Trusted(nodeA, caA, out _));
        Assert.False(ClusterTls.Trusted(nodeA, caB, out var why));
        Assert.NotEmpty(why);
        Assert.True(nodeA.MatchesHostname("10.0.0.11") && nodeA.MatchesHostname("casebook-a") && nodeA.MatchesHostname("127.0.0.1"));
        Assert.False(nodeA.MatchesHostname("10.0.0.12"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(a.Key));
    }

    [Fact]
    public void Cluster_up_takes_the_three_tls_files_together_or_not_at_all()
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = CliProcess.Run(dir.Path, dir.KeyFile, TimeSpan.FromMinutes(2), "cluster", "up", "--tls-ca", dir["ca.crt"], "--data", dir["c"]);
        Assert.Equal(2, code);
        Assert.Contains("--tls-ca, --tls-cert and --tls-key go together", stderr);
        var files = ClusterTls.MakeLocal(dir["tls"], []);
        (code, _, stderr) = CliProcess.Run(dir.Path, dir.KeyFile, TimeSpan.FromMinutes(2), "cluster", "up", "--tls-ca", files.Ca, "--tls-cert", files.Cert, "--tls-key", dir["missing.key"], "--data", dir["c"]);
        Assert.Equal(2, code);
        Assert.Contains("--tls-key: file not found", stderr);
    }
}
