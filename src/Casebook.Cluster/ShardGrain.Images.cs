using System.Text.Json;
using Casebook.Ingest.Dicom;
using Casebook.Model;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>The DICOM instances this shard serves over DICOMweb (<see cref="DicomInstanceIndex.Read"/>: its live studies'
    /// DICOM slices with their QIDO attributes) as JSON <see cref="StoredDicomInstance"/>s, in study id then blob order.</summary>
    Task<string> DicomInstances();
}

/// <summary>
/// DICOMweb on a shard: the shard's database holds the same <c>dicomweb_instances</c> side table one node's server keeps,
/// filled as the shard applies studies (the attributes are read from the instance's blob, fetched from the object store
/// just before), so a query reads rows and never a blob. A snapshot carries the table. Blobs applied before the table
/// existed are indexed on the next query when their bytes are on this disk.
/// </summary>
public sealed partial class ShardGrain
{
    /// <summary>Indexes the DICOM instances of studies just committed (their blobs are in this shard's blob store).</summary>
    void IndexDicomInstances(IEnumerable<StudyRecord> studies)
    {
        var db = _db!;
        var blobs = studies.SelectMany(s => s.Segments)
            .Where(g => g.Kind == SegmentKind.ImageSlice && g.BlobMime == DicomSlicer.Mime && g.Blob != null && db.Blobs.Exists(g.Blob.Sha256))
            .Select(g => g.Blob!.Sha256).Distinct().Select(b => (b, db.Blobs.PathOf(b))).ToList();
        if (blobs.Count == 0) return;
        using var c = CasebookDb.OpenConnection(CasebookDb.ConnectionStringFor(Directory));
        DicomInstanceIndex.Index(c, blobs);
    }

    /// <summary>
    /// Fetches from the object store the binaries of a study that are not on this disk. A shard restored from a snapshot on
    /// another silo has its rows but only the blobs of the entries it replayed; a region (drawn live, or replayed after the
    /// snapshot) is cut from its slice's bytes, so they are fetched before the engine applies it.
    /// </summary>
    async Task FetchMissingBlobs(string studyId, CancellationToken ct)
    {
        var db = _db!;
        if (db.GetStudy(studyId) is not { } study) return;
        foreach (var blob in Blobs(study).DistinctBy(b => b.Sha256))
            if (!db.Blobs.Exists(blob.Sha256) && await log.BlobExistsAsync(blob.Sha256, ct)) db.Blobs.Put(await log.GetBlobAsync(blob.Sha256, ct));
    }

    public Task<string> DicomInstances()
    {
        try
        {
            var db = _db!;
            using var c = CasebookDb.OpenConnection(CasebookDb.ConnectionStringFor(Directory));
            var list = DicomInstanceIndex.Read(c, b => db.Blobs.Exists(b) ? db.Blobs.PathOf(b) : null);
            return Task.FromResult(JsonSerializer.Serialize(list));
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }
}
