using System.Text.Json;
using System.Text.Json.Serialization;
using Casebook.Extract.Dicom;
using Microsoft.Data.Sqlite;

namespace Casebook.Ingest.Dicom;

/// <summary>The query level of a QIDO-RS attribute (PS3.4 C.6.1.1: study, series, instance keys).</summary>
public enum DicomLevel { Study, Series, Instance }

/// <summary>An attribute QIDO-RS matches on and returns, read from the stored instance's header.</summary>
public sealed record DicomAttribute(uint Tag, string Keyword, string VR, DicomLevel Level);

/// <summary>One stored (de-identified) instance as QIDO and WADO see it: its blob (content hash), and its indexed attributes.</summary>
public sealed record StoredDicomInstance(string Blob, long Length, string CasebookStudyId, IReadOnlyDictionary<string, string> Values)
{
    public string Get(string keyword) => Values.GetValueOrDefault(keyword, "");
    [JsonIgnore] public string StudyUid => Get("StudyInstanceUID");
    [JsonIgnore] public string SeriesUid => Get("SeriesInstanceUID");
    [JsonIgnore] public string SopUid => Get("SOPInstanceUID");
}

/// <summary>
/// The DICOM instances a database serves over DICOMweb (the server, docs/dicomweb.md, and each cluster shard): every DICOM
/// blob of a live study row with the attributes QIDO matches on, kept in <c>dicomweb_instances</c> keyed by the blob's
/// SHA-256 (a blob never changes, so a row never goes stale; rows of purged blobs are simply never joined).
/// <c>CREATE TABLE IF NOT EXISTS</c>: no format bump, older engines ignore it.
/// </summary>
public static class DicomInstanceIndex
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS dicomweb_instances(
            blob TEXT PRIMARY KEY,
            attrs TEXT NOT NULL);
        """;

    /// <summary>The attributes indexed per instance (PS3.18 §10.6.3.3 required return keys, plus the usual matching keys).</summary>
    public static readonly IReadOnlyList<DicomAttribute> Attributes =
    [
        new(0x00080020, "StudyDate", "DA", DicomLevel.Study),
        new(0x00080030, "StudyTime", "TM", DicomLevel.Study),
        new(0x00080050, "AccessionNumber", "SH", DicomLevel.Study),
        new(0x00080090, "ReferringPhysicianName", "PN", DicomLevel.Study),
        new(0x00081030, "StudyDescription", "LO", DicomLevel.Study),
        new(0x00100010, "PatientName", "PN", DicomLevel.Study),
        new(0x00100020, "PatientID", "LO", DicomLevel.Study),
        new(0x00100030, "PatientBirthDate", "DA", DicomLevel.Study),
        new(0x00100040, "PatientSex", "CS", DicomLevel.Study),
        new(0x0020000D, "StudyInstanceUID", "UI", DicomLevel.Study),
        new(0x00200010, "StudyID", "SH", DicomLevel.Study),
        new(0x00080060, "Modality", "CS", DicomLevel.Series),
        new(0x0008103E, "SeriesDescription", "LO", DicomLevel.Series),
        new(0x0020000E, "SeriesInstanceUID", "UI", DicomLevel.Series),
        new(0x00200011, "SeriesNumber", "IS", DicomLevel.Series),
        new(0x00180015, "BodyPartExamined", "CS", DicomLevel.Series),
        new(0x00080021, "SeriesDate", "DA", DicomLevel.Series),
        new(0x00080016, "SOPClassUID", "UI", DicomLevel.Instance),
        new(0x00080018, "SOPInstanceUID", "UI", DicomLevel.Instance),
        new(0x00200013, "InstanceNumber", "IS", DicomLevel.Instance),
        new(0x00280010, "Rows", "US", DicomLevel.Instance),
        new(0x00280011, "Columns", "US", DicomLevel.Instance),
        new(0x00280008, "NumberOfFrames", "IS", DicomLevel.Instance),
    ];

    /// <summary>Per-instance key, not a header attribute: the stored transfer syntax (served as AvailableTransferSyntaxUID).</summary>
    public const string TransferSyntaxKey = "TransferSyntaxUID";

    public static void Ensure(SqliteConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = Schema;
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Every instance served now (DICOM slices of live study rows), in study id then blob order, a blob once. Blobs not yet
    /// indexed are read once through <paramref name="pathOf"/> (null: not on this disk, left for a later query) and recorded.
    /// </summary>
    public static List<StoredDicomInstance> Read(SqliteConnection c, Func<string, string?> pathOf)
    {
        Ensure(c);
        var list = new List<StoredDicomInstance>();
        var missing = new List<(string Blob, long Length, string Study)>();
        using (var cmd = c.CreateCommand())
        {
            // DISTINCT: a multi-frame instance is one blob behind several slice segments.
            cmd.CommandText = """
                SELECT DISTINCT g.blob, g.blob_len, s.study_id, d.attrs
                FROM segments g JOIN studies s ON s.row_id = g.study_row_id
                LEFT JOIN dicomweb_instances d ON d.blob = g.blob
                WHERE s.v_to IS NULL AND g.kind = 'image_slice' AND g.blob_mime = 'application/dicom' AND g.blob IS NOT NULL
                ORDER BY s.study_id, g.blob
                """;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                if (r.IsDBNull(3)) { missing.Add((r.GetString(0), r.GetInt64(1), r.GetString(2))); continue; }
                list.Add(new StoredDicomInstance(r.GetString(0), r.GetInt64(1), r.GetString(2), JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(3))!));
            }
        }
        foreach (var (blob, length, study) in missing.DistinctBy(m => m.Blob))
        {
            if (pathOf(blob) is not { } path) continue;
            var values = ReadAttributes(path);
            if (values == null) continue; // unreadable: never served (the engine's own readers report it at ingest)
            Record(c, blob, values);
            list.Add(new StoredDicomInstance(blob, length, study, values));
        }
        return list.DistinctBy(i => i.Blob).ToList();
    }

    /// <summary>Indexes DICOM blobs now (a shard does it as it applies studies); blobs already indexed or unreadable are skipped.</summary>
    public static void Index(SqliteConnection c, IEnumerable<(string Blob, string Path)> blobs)
    {
        Ensure(c);
        foreach (var (blob, path) in blobs)
        {
            using (var has = c.CreateCommand())
            {
                has.CommandText = "SELECT 1 FROM dicomweb_instances WHERE blob = @b";
                has.Parameters.AddWithValue("@b", blob);
                if (has.ExecuteScalar() != null) continue;
            }
            if (ReadAttributes(path) is { } values) Record(c, blob, values);
        }
    }

    /// <summary>Drops the rows of blobs no segment of any version references any more (after a purge: with secure_delete on
    /// the caller's connection, the purged instances' attributes leave the file).</summary>
    public static int Prune(SqliteConnection c)
    {
        Ensure(c);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM dicomweb_instances WHERE blob NOT IN (SELECT blob FROM segments WHERE blob IS NOT NULL)";
        return cmd.ExecuteNonQuery();
    }

    static void Record(SqliteConnection c, string blob, Dictionary<string, string> values)
    {
        using var insert = c.CreateCommand();
        insert.CommandText = "INSERT OR IGNORE INTO dicomweb_instances(blob, attrs) VALUES (@b, @a)";
        insert.Parameters.AddWithValue("@b", blob);
        insert.Parameters.AddWithValue("@a", JsonSerializer.Serialize(values));
        insert.ExecuteNonQuery();
    }

    /// <summary>The indexed attributes of a stored instance (header only, Pixel Data not read); null when it cannot be parsed.</summary>
    public static Dictionary<string, string>? ReadAttributes(string path)
    {
        try
        {
            using var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
            var values = new Dictionary<string, string>();
            foreach (var a in Attributes)
                if (f.Dataset.Find(new DicomTag(a.Tag)) is { Length: > 0 } e) values[a.Keyword] = string.Join('\\', e.VR == DicomVR.US ? e.GetDoubles().Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)) : e.GetStrings());
            values[TransferSyntaxKey] = f.TransferSyntax.Uid;
            return values.ContainsKey("SOPInstanceUID") && values.ContainsKey("StudyInstanceUID") && values.ContainsKey("SeriesInstanceUID") ? values : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException) { return null; }
    }
}
