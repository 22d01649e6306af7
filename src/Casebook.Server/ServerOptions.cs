using System.Net;

namespace Casebook.Server;

/// <summary>Settings of one server: where the database is, where it listens, TLS, and the limits it enforces.</summary>
public sealed class ServerOptions
{
    public required string DbDirectory { get; init; }
    /// <summary>Serve a cluster (its cluster.json) instead of a database; <see cref="DbDirectory"/> then holds only the server's
    /// own tables (API keys, audit log, JWT key). See docs/server.md, "Serving a cluster".</summary>
    public string? ClusterFile { get; init; }
    /// <summary>Patient pseudonym key file used by ingest (null: the engine's default, $CASEBOOK_KEY_FILE).</summary>
    public string? KeyFile { get; init; }
    public string Bind { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (the bound address is printed and in <see cref="CasebookServer.Urls"/>).</summary>
    public int Port { get; init; } = 5080;
    /// <summary>TLS certificate: a PKCS#12 (.pfx/.p12) file, or a PEM certificate with <see cref="TlsKeyPath"/>.</summary>
    public string? TlsCertPath { get; init; }
    public string? TlsKeyPath { get; init; }
    public string? TlsCertPassword { get; init; }
    /// <summary>Allow plain HTTP on a non-loopback address (off: such a bind without a certificate is refused).</summary>
    public bool InsecureHttp { get; init; }
    /// <summary>JWT signing key file (hex); default $CASEBOOK_JWT_KEY_FILE, else &lt;db&gt;/server/jwt-signing.key.</summary>
    public string? JwtKeyFile { get; init; }
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Studies per commit in ingest jobs (null: the engine's default); a crash loses at most the batch in flight.</summary>
    public int? IngestBatchSize { get; init; }

    // Limits: uploads, request rate, query cost.
    /// <summary>Largest ingest upload (all files of one request).</summary>
    public long MaxIngestBytes { get; init; } = 1L << 30;
    /// <summary>Largest image (or DICOM file) for search by image.</summary>
    public long MaxImageQueryBytes { get; init; } = 64L << 20;
    /// <summary>Largest body of any other request.</summary>
    public long MaxRequestBytes { get; init; } = 1L << 20;
    /// <summary>Requests per caller (key or token subject; remote address when anonymous) per <see cref="RateWindow"/>.</summary>
    public int RequestsPerWindow { get; init; } = 600;
    public TimeSpan RateWindow { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxSearchLimit { get; init; } = 100;
    public int MaxFilterLength { get; init; } = 2048;
    public int MaxQueryTextLength { get; init; } = 1024;

    // Hospital feeds (Feeds/, docs/feeds.md): off unless a port is given; bound to Bind like HTTP.
    /// <summary>DICOM upper-layer port of the Verification/Storage SCP (null: off; 0 picks a free one).</summary>
    public int? DimsePort { get; init; }
    /// <summary>Our AE title: associations calling another title are rejected when <see cref="CheckCalledAe"/>.</summary>
    public string AeTitle { get; init; } = "CASEBOOK";
    public bool CheckCalledAe { get; init; } = true;
    /// <summary>Calling AE titles allowed to associate (null or empty: any).</summary>
    public IReadOnlySet<string>? AllowedCallingAes { get; init; }
    /// <summary>Largest P-DATA-TF PDU we receive (announced in the A-ASSOCIATE-AC).</summary>
    public int MaxPduLength { get; init; } = 256 * 1024;
    public long MaxDicomInstanceBytes { get; init; } = 2L << 30;
    /// <summary>HL7 v2 over MLLP port (null: off; 0 picks a free one).</summary>
    public int? MllpPort { get; init; }
    public int MaxHl7MessageBytes { get; init; } = 16 << 20;
    /// <summary>DIMSE ARTIM timer: how long a new connection may take to ask for an association, and a peer to close after release.</summary>
    public TimeSpan ArtimTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>An association or MLLP connection silent this long is aborted / closed.</summary>
    public TimeSpan FeedIdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public bool IsLoopback => Bind == "localhost" || (IPAddress.TryParse(Bind, out var a) && IPAddress.IsLoopback(a));

    /// <summary>Refuses settings that would expose patient data: plain HTTP off loopback needs an explicit opt-in.</summary>
    public void Validate()
    {
        if (Bind != "localhost" && !IPAddress.TryParse(Bind, out _)) throw new ArgumentException($"--bind must be an IP address or localhost, not '{Bind}'");
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port must be 0..65535, not {Port}");
        if (!IsLoopback && TlsCertPath == null && !InsecureHttp)
            throw new ArgumentException($"binding {Bind} (not loopback) needs TLS: pass --tls-cert PATH, or --insecure-http to serve plain HTTP on purpose");
        if (DimsePort is < 0 or > 65535) throw new ArgumentException($"--dimse-port must be 0..65535, not {DimsePort}");
        if (MllpPort is < 0 or > 65535) throw new ArgumentException($"--mllp-port must be 0..65535, not {MllpPort}");
        // PS3.8 §9.3.2: an AE title is 1..16 characters of the default repertoire, no backslash or control characters.
        if (AeTitle.Trim().Length is 0 or > 16 || AeTitle.Any(c => c < 0x20 || c > 0x7E || c == '\\'))
            throw new ArgumentException($"--ae-title must be 1 to 16 printable ASCII characters without '\\', not '{AeTitle}'");
        if (TlsCertPath != null && !File.Exists(TlsCertPath)) throw new ArgumentException($"--tls-cert: no such file '{TlsCertPath}'");
        if (TlsKeyPath != null && !File.Exists(TlsKeyPath)) throw new ArgumentException($"--tls-key: no such file '{TlsKeyPath}'");
    }
}
