using Casebook.Cluster;
using Casebook.Ingest.Dicom;
using Casebook.Server.DicomWeb;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Cluster;

/// <summary>
/// DICOMweb under `serve --cluster`: the single node's QIDO-RS and WADO-RS handlers (DicomWeb/Qido.cs, Wado.cs) over the
/// cluster. The served instances are gathered from every shard's <c>dicomweb_instances</c> side table (filled as the shard
/// applies studies) in one node's order, so matching, ordering, limit and offset are one node's code on the same list;
/// bytes (retrieve, metadata, rendered frames) come from the object store by content hash, where the shards' binaries are.
/// STOW-RS is one node's request reading and response, with the cluster's store behind it.
/// </summary>
sealed class ClusterDicomWeb(ClusterClient cluster) : DicomWebSource
{
    /// <summary>STOW-RS into the cluster (<see cref="ClusterClient.StoreDicomAsync"/>: added to the stored study, through the log); one node's response JSON.</summary>
    public static Task<IResult> StoreAll(HttpContext ctx, ClusterClient cluster, DicomWebSource index) =>
        Stow.Store(ctx, cluster.Config.KeyFile, index, (files, options) => cluster.StoreDicomAsync(files, options, ctx.RequestAborted), null);

    public static Task<IResult> StoreInStudy(HttpContext ctx, ClusterClient cluster, DicomWebSource index, string study) =>
        Stow.Store(ctx, cluster.Config.KeyFile, index, (files, options) => cluster.StoreDicomAsync(files, options, ctx.RequestAborted), DicomWebResponses.Uid(study, "study"));

    public override async Task<IReadOnlyList<StoredDicomInstance>> InstancesAsync(CancellationToken ct) => await cluster.DicomInstancesAsync(ct);

    public override Task<bool> ExistsAsync(StoredDicomInstance i, CancellationToken ct) => cluster.Log.BlobExistsAsync(i.Blob, ct);

    public override async Task<Stream?> OpenAsync(StoredDicomInstance i, CancellationToken ct)
    {
        try { return new MemoryStream(await cluster.Log.GetBlobAsync(i.Blob, ct), writable: false); }
        catch (NATS.Client.ObjectStore.NatsObjNotFoundException) { return null; } // purged since the instance list was read
    }
}
