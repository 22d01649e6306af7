using Casebook.Ingest;

namespace Casebook.Server.Feeds;

/// <summary>
/// Where the feeds' changes go, chosen once at startup: one database (<see cref="FeedWriter"/>) or, with `serve --cluster`,
/// the cluster's log (Cluster/ClusterFeedTarget). The protocol code (DIMSE SCP and spool, MLLP and HL7 processing) is the
/// same for both; only these four engine calls differ. Each returns once the change is durable (committed on one node,
/// applied by its shard on a cluster), so an acknowledgement sent after it means the change is kept.
/// </summary>
public interface IFeedTarget
{
    /// <summary>Ingests one association's spool folder (a study arriving in pieces keeps its earlier pieces).</summary>
    Task<IngestResult> IngestDicomAsync(string folder, string message, CancellationToken ct = default);

    /// <summary>A received report into the text pipeline (<see cref="CasebookDb.AddReceivedReport"/>).</summary>
    Task<ReceivedReportResult> AddReceivedReportAsync(ReceivedReport report, string message, CancellationToken ct = default);

    /// <summary>ADT^A08 (<see cref="CasebookDb.UpdatePatientDemographics"/>).</summary>
    Task<PatientChangeResult> UpdatePatientAsync(string issuer, string patientId, PatientDemographics demographics, string message, string author, CancellationToken ct = default);

    /// <summary>ADT^A40 (<see cref="CasebookDb.MergePatients"/>).</summary>
    Task<PatientChangeResult> MergePatientsAsync(string issuer, string survivingId, string priorIssuer, string priorId, string message, string author, CancellationToken ct = default);
}
