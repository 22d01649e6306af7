using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Casebook.Ingest;

/// <summary>
/// How a document or recording names the study it belongs to. <see cref="Kind"/> is open: the built-in kinds are
/// <see cref="StudyId"/>, <see cref="Accession"/> and <see cref="Name"/> (a file or folder name: study id or
/// accession); other resolvers (FHIR ImagingStudy/DiagnosticReport references) add their own kinds.
/// </summary>
public sealed record StudyReference(string Kind, string Value)
{
    public const string StudyId = "study_id";
    public const string Accession = "accession";
    /// <summary>A file stem or folder name: the whole name, else its longest prefix ending before a '_', that is a study id or an accession.</summary>
    public const string Name = "name";
    /// <summary>A folder (absolute path): the one DICOM study whose instances lie directly in it, if exactly one does.</summary>
    public const string Folder = "folder";

    public override string ToString() => $"{Kind} '{Value}'";
}

/// <summary>Resolves references of kinds the linker does not know itself (extension point: FHIR resolvers plug in here).</summary>
public interface IStudyReferenceResolver
{
    /// <summary>The study_id the reference names, or null when this resolver does not know it.</summary>
    string? Resolve(StudyReference reference);
}

/// <summary>What an attachment adds to its study.</summary>
public enum AttachmentKind { Report, Dictation, Image }

/// <summary>
/// A scanned report, a dictation or a key image that names a study instead of describing one: a manifest row without
/// patient_id (or without study_id but with an accession), or a file dropped in a folder. It is attached to the study
/// its first resolvable reference names, in this ingest or in the database already (the study gets a new version).
/// </summary>
public sealed record StudyAttachment(string File, AttachmentKind Kind, IReadOnlyList<StudyReference> References, string Origin)
{
    /// <summary>Manifest rows that also give patient_id: the target study must belong to that patient.</summary>
    public string? PatientId { get; init; }
    public string Issuer { get; init; } = StudyManifest.DefaultIssuer;
    /// <summary>
    /// Folder drop: the new study (by study_id) this file starts or joins when no reference resolves; null means an
    /// unresolved reference is an error.
    /// </summary>
    public string? FallbackStudyId { get; init; }
}

/// <summary>
/// Attaches documents and recordings to studies: resolves study ids, accession numbers (a manifest's accession column,
/// or DICOM AccessionNumber, kept only as a keyed hash) and file/folder names to the study_id of a study in this ingest
/// or live in the database. References it does not know go to <see cref="Resolvers"/> (FHIR plugs in there).
/// </summary>
public sealed class StudyLinker(PatientPseudonym key)
{
    readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    readonly Dictionary<string, HashSet<string>> _byAccession = new(StringComparer.Ordinal);

    /// <summary>Extra resolvers, asked in order after the built-in rules fail.</summary>
    public List<IStudyReferenceResolver> Resolvers { get; } = new();

    /// <summary>
    /// Metadata key holding the keyed hash of a DICOM AccessionNumber: accession numbers are identifiers (PS3.15 Table
    /// E.1-1 replaces them), so a DICOM study keeps only HMAC(key, accession), enough to link a report that names it.
    /// </summary>
    public const string AccessionKeyField = "accession_key";

    /// <summary>Hex HMAC of an accession number under the key file's "accession" sub-key (trimmed, case kept).</summary>
    public static string AccessionKey(PatientPseudonym key, string accession) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key.DeriveKey("accession"), Encoding.UTF8.GetBytes(accession.Trim())))[..32];

    /// <summary>A study that references may name; <paramref name="accession"/> is plain (manifest), <paramref name="accessionKey"/> hashed (DICOM).</summary>
    public void AddStudy(string studyId, string? accession = null, string? accessionKey = null)
    {
        _ids.Add(studyId);
        if (!string.IsNullOrWhiteSpace(accession)) Index(AccessionKey(key, accession), studyId);
        if (!string.IsNullOrWhiteSpace(accessionKey)) Index(accessionKey, studyId);
    }

    /// <summary>Adds a study from its metadata (accession / accession_key fields).</summary>
    public void AddStudy(string studyId, JsonObject metadata) =>
        AddStudy(studyId, Text(metadata, "accession"), Text(metadata, AccessionKeyField));

    static string? Text(JsonObject o, string name) =>
        o.TryGetPropertyValue(name, out var n) && n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    void Index(string accessionKey, string studyId)
    {
        if (!_byAccession.TryGetValue(accessionKey, out var set)) _byAccession[accessionKey] = set = new(StringComparer.Ordinal);
        set.Add(studyId);
    }

    public bool Knows(string studyId) => _ids.Contains(studyId);

    readonly Dictionary<string, HashSet<string>> _byFolder = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="studyId"/> has DICOM instances in <paramref name="folder"/> (this ingest only).</summary>
    public void AddFolder(string folder, string studyId)
    {
        if (!_byFolder.TryGetValue(folder, out var set)) _byFolder[folder] = set = new(StringComparer.Ordinal);
        set.Add(studyId);
    }

    /// <summary>The study <paramref name="reference"/> names, or null; an accession shared by several studies is an error.</summary>
    public string? Resolve(StudyReference reference)
    {
        var value = reference.Value.Trim();
        if (value.Length == 0) return null;
        switch (reference.Kind)
        {
            case StudyReference.StudyId:
                return ById(value);
            case StudyReference.Accession:
                return ByAccession(value);
            case StudyReference.Folder:
                // A report dropped beside one study's DICOM files belongs to it; a folder of several studies names none.
                return _byFolder.TryGetValue(value, out var inFolder) && inFolder.Count == 1 ? inFolder.First() : null;
            case StudyReference.Name:
                // The whole name, then shorter prefixes cut at '_' ("S-12_report_p2" → "S-12_report", "S-12"): ids may hold '_'.
                for (var name = value; ; )
                {
                    if ((ById(name) ?? ByAccession(name)) is { } id) return id;
                    var cut = name.LastIndexOf('_');
                    if (cut <= 0) break;
                    name = name[..cut];
                }
                break;
        }
        foreach (var r in Resolvers)
            if (r.Resolve(reference) is { } id) return id;
        return null;
    }

    string? ById(string value)
    {
        if (_ids.Contains(value)) return value;
        // A DICOM study's id is its keyed StudyInstanceUID remap: a reference may give the original UID.
        if (LooksLikeUid(value) && Dicom.DicomUidMap.Remap(key, value) is var remapped && _ids.Contains(remapped)) return remapped;
        return null;
    }

    string? ByAccession(string value)
    {
        if (!_byAccession.TryGetValue(AccessionKey(key, value), out var ids)) return null;
        if (ids.Count > 1)
            throw new InvalidDataException($"accession '{value}' names {ids.Count} studies ({string.Join(", ", ids.Order().Take(3))}); name the study by study_id");
        return ids.First();
    }

    static bool LooksLikeUid(string s) => s.Length is > 2 and <= 64 && s.Contains('.') && s.All(c => c is '.' or (>= '0' and <= '9'));
}
