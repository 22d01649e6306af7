using System.Net.Sockets;
using Casebook.Server.Audit;
using Microsoft.Extensions.Logging;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>
/// The DICOM upper-layer listener (`serve --dimse-port P --ae-title T`): a Verification and Storage SCP. Each connection runs
/// one <see cref="DimseAssociation"/>; received instances go through <see cref="DicomSpool"/> into the engine's ingest.
/// </summary>
public sealed class DimseListener(ServerOptions options, DicomSpool spool, AuditLog audit, ILogger<DimseListener> logger)
    : FeedListener(options, options.DimsePort ?? 0, logger)
{
    protected override string Name => "DIMSE";

    public DicomSpool Spool => spool;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        spool.Start(); // first: what a crash left in the spool is ingested before new associations add to it
        return base.StartAsync(cancellationToken);
    }

    protected override Task ServeAsync(TcpClient client, string remote, CancellationToken ct) =>
        new DimseAssociation(client.GetStream(), remote, Options, spool, audit).RunAsync(ct);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await spool.DrainAsync();
    }
}
