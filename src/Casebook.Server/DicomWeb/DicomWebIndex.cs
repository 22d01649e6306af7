using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Ingest.Dicom;
using Microsoft.Data.Sqlite;

namespace Casebook.Server.DicomWeb;

/// <summary>
/// Where QIDO-RS and WADO-RS find the instances they serve and their bytes: one database (<see cref="DicomWebIndex"/>) or
/// a cluster's shards and object store (Cluster/ClusterDicomWeb.cs). The handlers are the same for both.
/// </summary>
public abstract class DicomWebSource
{
    /// <summary>Every instance served now, in study id then blob order (a blob once).</summary>
    public abstract Task<IReadOnlyList<StoredDicomInstance>> InstancesAsync(CancellationToken ct);

    /// <summary>The stored instance's bytes (de-identified, as stored); null when the blob is gone.</summary>
    public abstract Task<Stream?> OpenAsync(StoredDicomInstance i, CancellationToken ct);

    /// <summary>Whether the stored instance's bytes are there (a purge removes them).</summary>
    public abstract Task<bool> ExistsAsync(StoredDicomInstance i, CancellationToken ct);

    /// <summary>The stored instance's header as DICOM JSON (Pixel Data not read); null when the blob is gone or unreadable.</summary>
    public virtual async Task<JsonObject?> HeaderAsync(StoredDicomInstance i, CancellationToken ct)
    {
        await using var stream = await OpenAsync(i, ct);
        if (stream == null) return null;
        try
        {
            using var f = DicomFile.Open(stream, DicomReadOptions.HeaderOnly);
            return DicomJsonModel.Dataset(f.Dataset);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException) { return null; }
    }

    /// <summary>The stored instance's bytes whole (rendering); null when the blob is gone.</summary>
    public async Task<byte[]?> ReadAllAsync(StoredDicomInstance i, CancellationToken ct)
    {
        await using var stream = await OpenAsync(i, ct);
        if (stream == null) return null;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, ct);
        return copy.ToArray();
    }
}

/// <summary>
/// The instances one database serves (<see cref="DicomInstanceIndex"/>: every DICOM blob of a live study row with its
/// QIDO attributes in <c>dicomweb_instances</c>). Which blobs are served is decided afresh from the live segments whenever
/// the database's version or purge count moves, so new versions, superseded rows and purges are followed without
/// bookkeeping. Blobs not yet indexed (ingested by the CLI, or before the table existed) are read once, lazily, on the next query.
/// </summary>
public sealed class DicomWebIndex : DicomWebSource
{
    /// <summary>The attributes indexed per instance (<see cref="DicomInstanceIndex.Attributes"/>).</summary>
    public static IReadOnlyList<DicomAttribute> Attributes => DicomInstanceIndex.Attributes;

    public const string TransferSyntaxKey = DicomInstanceIndex.TransferSyntaxKey;

    readonly ServerStore _store;
    readonly CasebookDb _db;
    readonly Lock _gate = new();
    (long Version, long Purges) _stamp = (-1, -1);
    IReadOnlyList<StoredDicomInstance> _instances = [];

    public DicomWebIndex(ServerStore store, CasebookDb db)
    {
        _store = store;
        _db = db;
        using var c = store.Connect();
        DicomInstanceIndex.Ensure(c);
    }

    /// <summary>Every instance served now (live study rows), indexing blobs that are not yet.</summary>
    public IReadOnlyList<StoredDicomInstance> Instances()
    {
        lock (_gate)
        {
            using var c = _store.Connect();
            var stamp = Stamp(c);
            if (stamp == _stamp) return _instances;
            _instances = DicomInstanceIndex.Read(c, _db.Blobs.PathOf);
            _stamp = stamp;
            return _instances;
        }
    }

    public override Task<IReadOnlyList<StoredDicomInstance>> InstancesAsync(CancellationToken ct) => Task.FromResult(Instances());

    /// <summary>Where the stored instance's bytes are (the blob store's file).</summary>
    public string PathOf(StoredDicomInstance i) => _db.Blobs.PathOf(i.Blob);

    public override Task<bool> ExistsAsync(StoredDicomInstance i, CancellationToken ct) => Task.FromResult(File.Exists(PathOf(i)));

    public override Task<Stream?> OpenAsync(StoredDicomInstance i, CancellationToken ct) =>
        Task.FromResult<Stream?>(File.Exists(PathOf(i)) ? File.OpenRead(PathOf(i)) : null);

    static (long, long) Stamp(SqliteConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT (SELECT COALESCE(MAX(version), 0) FROM versions), (SELECT COUNT(*) FROM purges)";
        using var r = cmd.ExecuteReader();
        r.Read();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    /// <summary>The indexed attributes of a stored instance (header only, Pixel Data not read); null when it cannot be parsed.</summary>
    public static Dictionary<string, string>? ReadAttributes(string path) => DicomInstanceIndex.ReadAttributes(path);
}
