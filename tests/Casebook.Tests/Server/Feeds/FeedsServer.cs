using Casebook.Server;
using Casebook.Server.Audit;
using Casebook.Server.Feeds.Dimse;
using Microsoft.Extensions.DependencyInjection;

namespace Casebook.Tests.Server.Feeds;

/// <summary>
/// A real server over a fresh database with both hospital feeds on random loopback ports (the DIMSE SCP as AE "CASEBOOK",
/// MLLP), shared by the feed tests of one class. Short timeouts so broken-peer tests stay quick.
/// </summary>
public sealed class FeedsServer : IAsyncLifetime
{
    public TempDirectory Temp { get; } = new();
    public string DbDir => Temp["db"];
    public CasebookServer Server { get; private set; } = null!;
    public int DimsePort => Server.DimsePort!.Value;
    public int MllpPort => Server.MllpPort!.Value;
    public CasebookDb Db => Server.Db;
    public AuditLog Audit => Server.App.Services.GetRequiredService<AuditLog>();
    public DicomSpool Spool => Server.App.Services.GetRequiredService<DicomSpool>();
    public const string AeTitle = "CASEBOOK";

    public async Task InitializeAsync()
    {
        CasebookDb.Open(DbDir, new CasebookOptions { KeyFile = Temp.KeyFile }).Dispose();
        Server = CasebookServer.Create(new ServerOptions
        {
            DbDirectory = DbDir, KeyFile = Temp.KeyFile, Port = 0, DimsePort = 0, MllpPort = 0, AeTitle = AeTitle,
            ArtimTimeout = TimeSpan.FromSeconds(5), FeedIdleTimeout = TimeSpan.FromSeconds(10),
        });
        await Server.StartAsync();
    }

    /// <summary>Waits until every spooled association has been ingested (the spool folder is empty and nothing is queued).</summary>
    public async Task WaitForIngestAsync(TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        // An association is queued when its connection ends, a moment after the peer exits.
        await Task.Delay(300);
        while (Spool.Pending > 0 || Directory.GetDirectories(Spool.Root).Length > 0)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"the DIMSE spool still holds {Directory.GetDirectories(Spool.Root).Length} folders");
            await Task.Delay(200);
        }
    }

    /// <summary>Polls the audit log for an entry (associations are audited as their connection closes, just after the peer exits).</summary>
    public async Task<AuditEntry> WaitForAuditAsync(Func<AuditEntry, bool> match)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (Audit.Read().FirstOrDefault(match) is { } e) return e;
            if (DateTime.UtcNow > until) throw new TimeoutException("no matching audit entry; the log holds: " + string.Join(" | ", Audit.Read().Select(x => $"{x.Actor} {x.Action} {x.Outcome} {x.Detail}")));
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Temp.Dispose();
    }
}

/// <summary>The feed tests share one server (one model load) and run one class at a time.</summary>
[CollectionDefinition("feeds")]
public sealed class FeedsCollection : ICollectionFixture<FeedsServer>;
