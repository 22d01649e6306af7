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
