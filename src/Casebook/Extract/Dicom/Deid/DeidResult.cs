using System.Text.Json;
using System.Text.Json.Serialization;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>A de-identified instance ready to write, and what was done to it.</summary>
public sealed class DeidResult
{
    internal DeidResult(DicomOutputDataset dataset, string transferSyntaxUid, DeidMetadata metadata)
    {
        Dataset = dataset; TransferSyntaxUid = transferSyntaxUid; Metadata = metadata;
    }

    public DicomOutputDataset Dataset { get; }
    /// <summary>Explicit VR little endian for native data; the original syntax for encapsulated (compressed) pixel data.</summary>
    public string TransferSyntaxUid { get; }
    public DeidMetadata Metadata { get; }

    public void Save(string path) => DicomWriter.Write(path, Dataset, TransferSyntaxUid);
    public void WriteTo(Stream stream) => DicomWriter.Write(stream, Dataset, TransferSyntaxUid);
    public byte[] ToBytes() => DicomWriter.ToBytes(Dataset, TransferSyntaxUid);
}

/// <summary>
/// What the de-identifier applied and the de-identified facts ingest may store (the <c>metadata</c> column):
/// the same profile/options as written in (0012,0062/0063/0064), the patient pseudonym and date shift,
/// demographics reduced to sex and a 5-year age band (90+ grouped), a keyed device id, and burned-in annotation flags.
/// </summary>
public sealed record DeidMetadata
{
    public bool PatientIdentityRemoved { get; init; } = true;
    /// <summary>The values of (0012,0063) De-identification Method.</summary>
    public IReadOnlyList<string> Method { get; init; } = [];
    /// <summary>The codes of (0012,0064) (scheme DCM), e.g. 113100 basic profile.</summary>
    public IReadOnlyList<DeidCode> MethodCodes { get; init; } = [];
    /// <summary>Where the action table came from (PS3.15 edition as published in machine-readable form).</summary>
    public string ProfileSource { get; init; } = ConfidentialityProfile.Source;
    public string PatientPseudoId { get; init; } = "";
    /// <summary>Days added to every date (negative); null when dates were removed instead of shifted.</summary>
    public int? DateShiftDays { get; init; }
    /// <summary>M, F or O from (0010,0040); null when absent.</summary>
    public string? Sex { get; init; }
    /// <summary>"0-4", "5-9", …, "85-89", "90+"; null when neither age nor birth date was known.</summary>
    public string? AgeBand { get; init; }
    public string? Modality { get; init; }
    /// <summary>Keyed hash of manufacturer, model and serial number (or station name): a stable id with no serial in it.</summary>
    public string? DeviceId { get; init; }
    /// <summary>(0028,0301) Burned In Annotation was YES: text may be in the pixels.</summary>
    public bool BurnedInAnnotation { get; init; }
    /// <summary>Mask regions were applied to the pixels.</summary>
    public bool Masked { get; init; }
    public string StudyInstanceUid { get; init; } = "";
    public string SeriesInstanceUid { get; init; } = "";
    public string SopInstanceUid { get; init; } = "";
    /// <summary>Cleaned descriptors, kept private attributes, and anything not done (e.g. a mask not applicable to compressed pixels).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>A coded entry of (0012,0064) (PS3.16 CID 7050 De-identification Method).</summary>
public sealed record DeidCode(string Value, string Scheme, string Meaning);
