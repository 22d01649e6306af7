using Casebook.Cluster;
using Casebook.Ingest;
using Casebook.Server.Feeds;
using Casebook.Server.Feeds.Hl7;

namespace Casebook.Server.Cluster;

/// <summary>
/// The hospital feeds on `serve --cluster` (<see cref="IFeedTarget"/>): DIMSE batches and ORU^R01 reports go through the
/// cluster's log with the single node's merge and linking (<see cref="ClusterClient.IngestDicomFeedAsync"/>,
/// <see cref="ClusterClient.AddReceivedReportAsync"/>), returning once the shards applied them — so the C-STORE spool's
/// "ingested" and the ACK's AA mean what they mean on one node. ADT^A08 and ADT^A40 change every study of a patient (and,
/// for a merge, move them between pseudonyms, hence shards); they are not carried through the log yet, so they are refused
/// with AR and an ERR segment that says so, never acknowledged without being applied.
/// </summary>
sealed class ClusterFeedTarget(ClusterClient cluster, ServerOptions options) : IFeedTarget
{
    IngestOptions Options(string message)
    {
        // As FeedWriter.IngestOptions: a study arriving over several associations keeps what the earlier ones stored.
        var o = new IngestOptions { Message = message, Dicom = { KeepStoredInstances = true } };
        if (options.IngestBatchSize is { } batch) o.BatchSize = batch;
        return o;
    }

    public Task<IngestResult> IngestDicomAsync(string folder, string message, CancellationToken ct = default) =>
        cluster.IngestDicomFeedAsync(folder, Options(message), ct);

    public Task<ReceivedReportResult> AddReceivedReportAsync(ReceivedReport report, string message, CancellationToken ct = default) =>
        cluster.AddReceivedReportAsync(report, Options(message), ct);

    public Task<PatientChangeResult> UpdatePatientAsync(string issuer, string patientId, PatientDemographics demographics, string message, string author, CancellationToken ct = default) =>
        throw NotOnCluster("ADT^A08 (patient update)");

    public Task<PatientChangeResult> MergePatientsAsync(string issuer, string survivingId, string priorIssuer, string priorId, string message, string author, CancellationToken ct = default) =>
        throw NotOnCluster("ADT^A40 (patient merge)");

    static Hl7Exception NotOnCluster(string what) =>
        new($"{what} is not available on a cluster yet; nothing was changed", Hl7Exception.UnsupportedEvent, reject: true);
}
