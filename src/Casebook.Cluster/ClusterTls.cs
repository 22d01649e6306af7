using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Serialization;
using NATS.Client.Core;
using Orleans.Clustering.Redis;
using Orleans.Connections.Security;
using StackExchange.Redis;

namespace Casebook.Cluster;

/// <summary>
/// The `tls` section of cluster.json: PEM files of the deployment's CA and of this node's certificate and key. The paths
/// are read on each machine, so every machine can keep its own certificate at the same path (signed by the same CA).
/// </summary>
public sealed class ClusterTlsFiles
{
    [JsonPropertyName("ca")] public string Ca { get; set; } = "";
    [JsonPropertyName("cert")] public string Cert { get; set; } = "";
    [JsonPropertyName("key")] public string Key { get; set; } = "";
}

/// <summary>A TLS setting that does not match the cluster (plaintext to a TLS server, an unknown CA): says which side and file.</summary>
public sealed class ClusterTlsException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

/// <summary>
/// TLS between clients, NATS, Redis and silos (docs/cluster.md). One private CA per deployment: every connection is mutual
/// TLS, each side presents a certificate signed by that CA and accepts only peers whose certificate chains to it.
/// `cluster up --tls` makes the CA and one node certificate under DIR/tls when no files are given.
/// </summary>
public static class ClusterTls
{
    /// <summary>Makes a private CA and a node certificate (server and client use) valid for <paramref name="hosts"/> plus localhost.</summary>
    public static ClusterTlsFiles MakeLocal(string dir, IEnumerable<string> hosts)
    {
        Directory.CreateDirectory(dir);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Casebook cluster CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));

        using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nodeRequest = new CertificateRequest("CN=casebook-node", nodeKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        foreach (var h in hosts.Append("127.0.0.1").Append("::1").Distinct())
            if (IPAddress.TryParse(h, out var ip)) san.AddIpAddress(ip); else san.AddDnsName(h);
        nodeRequest.CertificateExtensions.Add(san.Build());
        nodeRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        nodeRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        // Every process is both a server (NATS, Redis, silo) and a client (routes, silo-to-silo, coordinator).
        nodeRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        nodeRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var node = nodeRequest.Create(ca, now.AddDays(-1), now.AddYears(2), serial);

        var files = new ClusterTlsFiles { Ca = Path.Combine(dir, "ca.crt"), Cert = Path.Combine(dir, "node.crt"), Key = Path.Combine(dir, "node.key") };
        File.WriteAllText(files.Ca, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(files.Cert, node.ExportCertificatePem() + "\n");
        WriteSecret(files.Key, nodeKey.ExportPkcs8PrivateKeyPem() + "\n");
        // The CA key signs further node certificates (another machine): kept next to them, readable by the owner only.
        WriteSecret(Path.Combine(dir, "ca.key"), caKey.ExportPkcs8PrivateKeyPem() + "\n");
        return files;
    }

    static void WriteSecret(string path, string text)
    {
        File.WriteAllText(path, "");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, text);
    }

    /// <summary>Checks that the three files exist and load; the error names the field and the file.</summary>
    public static void Check(ClusterTlsFiles tls)
    {
        foreach (var (field, path) in new[] { ("tls.ca", tls.Ca), ("tls.cert", tls.Cert), ("tls.key", tls.Key) })
            if (string.IsNullOrEmpty(path) || !File.Exists(path)) throw new FileNotFoundException($"cluster.json {field}: file not found: '{path}'", path);
        try { using var _ = Ca(tls); using var __ = NodeCertificate(tls); }
        catch (CryptographicException e) { throw new InvalidDataException($"cluster.json tls: {tls.Cert} / {tls.Key} / {tls.Ca} are not PEM certificates and key that match: {e.Message}", e); }
    }

    public static X509Certificate2 Ca(ClusterTlsFiles tls) => X509CertificateLoader.LoadCertificateFromFile(tls.Ca);

    /// <summary>The node certificate with its private key (re-imported so SslStream can use the key on every platform).</summary>
    public static X509Certificate2 NodeCertificate(ClusterTlsFiles tls)
    {
        using var pem = X509Certificate2.CreateFromPemFile(tls.Cert, tls.Key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>True when <paramref name="remote"/> chains to the deployment's CA (and only to it).</summary>
    public static bool Trusted(X509Certificate2? remote, X509Certificate2 ca, out string why)
    {
        why = "";
        if (remote == null) { why = "no certificate presented"; return false; }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(remote)) return true;
        why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("chain does not end at the CA"));
        return false;
    }

    /// <summary>NATS client options: mutual TLS with the node certificate, the server checked against the CA.</summary>
    public static NatsOpts Nats(NatsOpts opts, ClusterConfig config) =>
        config.Tls is not { } tls ? opts : opts with { TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = tls.Ca, CertFile = tls.Cert, KeyFile = tls.Key } };

    /// <summary>Redis membership connection (plain or TLS with the node certificate, the server checked against the CA).</summary>
    public static void Redis(RedisClusteringOptions o, ClusterConfig config)
    {
        var options = ConfigurationOptions.Parse(config.Redis);
        if (config.Tls is { } tls)
        {
            options.Ssl = true;
            options.TrustIssuer(tls.Ca);
            options.SetUserPemCertificate(tls.Cert, tls.Key);
        }
        o.ConfigurationOptions = options;
    }

    /// <summary>Orleans silo-to-silo and client-to-silo connections: mutual TLS, peers must chain to the CA.</summary>
    public static void Orleans(TlsOptions o, ClusterTlsFiles tls)
    {
        var ca = Ca(tls);
        o.LocalCertificate = NodeCertificate(tls);
        o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Names are not checked (silos connect to each other by address); the chain to the deployment's CA is.
        o.RemoteCertificateValidation = (certificate, _, _) => Trusted(certificate, ca, out _);
    }

    /// <summary>
    /// Before connecting: asks each NATS URL for its INFO and, with TLS configured, completes a handshake checked against
    /// the CA. A mismatch fails at once with a message that says what is wrong (instead of a minute of connect retries).
    /// A server that does not answer yet is skipped (the caller retries).
    /// </summary>
    public static async Task PreflightAsync(ClusterConfig config, CancellationToken ct = default)
    {
        foreach (var url in config.Nats)
        {
            var uri = new Uri(url);
            using var tcp = new TcpClient();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await tcp.ConnectAsync(uri.Host, uri.Port, timeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested) { continue; }
            var stream = tcp.GetStream();
            stream.ReadTimeout = 5000;
            var info = ReadLine(stream);
            var required = info.Contains("\"tls_required\":true", StringComparison.Ordinal);
            if (config.Tls == null)
            {
                if (required) throw new ClusterTlsException($"NATS at {url} requires TLS, and cluster.json has no \"tls\" section (ca, cert, key of the deployment)");
                return;
            }
            if (!required) throw new ClusterTlsException($"cluster.json asks for TLS, but NATS at {url} does not offer it (its configuration has no tls block)");
            Check(config.Tls);
            using var ca = Ca(config.Tls);
            string? why = null;
            using var ssl = new SslStream(stream, false, (_, cert, _, _) =>
            {
                using var c = cert == null ? null : X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
                if (Trusted(c, ca, out var untrusted)) return true;
                why = $"NATS at {url} presented a certificate that is not signed by the CA in tls.ca ({config.Tls.Ca}): {untrusted}";
                return false;
            });
            try
            {
                using var node = NodeCertificate(config.Tls);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = uri.Host, ClientCertificates = [node] }, ct);
                // Under TLS 1.3 the server judges the client's certificate after the handshake: one PING shows its verdict.
                ssl.ReadTimeout = 5000;
                await ssl.WriteAsync("CONNECT {\"verbose\":false}\r\nPING\r\n"u8.ToArray(), ct);
                if (ReadLine(ssl).Length == 0) throw new IOException("connection closed");
            }
            catch (AuthenticationException e) { throw new ClusterTlsException(why ?? $"TLS handshake with NATS at {url} failed: {e.Message}", e); }
            catch (IOException e) { throw new ClusterTlsException($"NATS at {url} refused this node's certificate tls.cert ({config.Tls.Cert}): it is not signed by the CA the server trusts: {e.Message}", e); }
            return;
        }
    }

    static string ReadLine(Stream s)
    {
        var sb = new StringBuilder();
        var b = new byte[1];
        while (sb.Length < 65536 && s.Read(b, 0, 1) == 1 && b[0] != '\n') sb.Append((char)b[0]);
        return sb.ToString();
    }

    /// <summary>The nats-server `tls {}` block (clients or routes): node certificate, CA, and verify (clients must present one too).</summary>
    public static string NatsBlock(ClusterTlsFiles tls) =>
        $"tls {{ cert_file: \"{tls.Cert}\", key_file: \"{tls.Key}\", ca_file: \"{tls.Ca}\", verify: true, timeout: 5 }}";

    /// <summary>redis-server arguments for a TLS-only port with client certificates required.</summary>
    public static string[] RedisArgs(ClusterTlsFiles tls, int port) =>
        ["--port", "0", "--tls-port", port.ToString(), "--tls-cert-file", tls.Cert, "--tls-key-file", tls.Key, "--tls-ca-cert-file", tls.Ca, "--tls-auth-clients", "yes"];
}
