using Casebook.Ingest;

namespace Casebook.Server.Feeds;

/// <summary>
/// The feeds' one writer: DIMSE batches and HL7 messages change the database one at a time (ingest is one writer anyway, and
/// a report that links to a study must see the study the previous message made). The HTTP ingest jobs queue on SQLite's
/// write lock beside it. This is the <see cref="IFeedTarget"/> of one database; `serve --cluster` uses Cluster/ClusterFeedTarget.
/// </summary>
public sealed class FeedWriter(CasebookDb db, ServerOptions options) : IFeedTarget, IDisposable
{
    readonly SemaphoreSlim _one = new(1, 1);
    public CasebookDb Db => db;

    public IngestOptions IngestOptions(string message)
    {
        // A study may arrive over several associations: each keeps what the earlier ones stored (Ingest/Dicom/DicomStudyMerge).
        var o = new IngestOptions { Message = message, Dicom = { KeepStoredInstances = true } };
        if (options.IngestBatchSize is { } batch) o.BatchSize = batch;
        return o;
    }

    public async Task<T> RunAsync<T>(Func<T> write, CancellationToken ct = default)
    {
        await _one.WaitAsync(ct);
        try { return await Task.Run(write, CancellationToken.None); }
        finally { _one.Release(); }
    }

    public Task<IngestResult> IngestDicomAsync(string folder, string message, CancellationToken ct = default) => RunAsync(() =>
    {
        var r = db.Ingest([folder], IngestOptions(message));
        db.SaveIndexes(); // the vector index cache, under the same writer turn
        return r;
    }, ct);

    public Task<ReceivedReportResult> AddReceivedReportAsync(ReceivedReport report, string message, CancellationToken ct = default) =>
        RunAsync(() => db.AddReceivedReport(report, IngestOptions(message)), ct);

    public Task<PatientChangeResult> UpdatePatientAsync(string issuer, string patientId, PatientDemographics demographics, string message, string author, CancellationToken ct = default) =>
        RunAsync(() => db.UpdatePatientDemographics(issuer, patientId, demographics, message, author), ct);

    public Task<PatientChangeResult> MergePatientsAsync(string issuer, string survivingId, string priorIssuer, string priorId, string message, string author, CancellationToken ct = default) =>
        RunAsync(() => db.MergePatients(issuer, survivingId, priorIssuer, priorId, message, author), ct);

    public void Dispose() => _one.Dispose();
}
