using System.Text.Json;
using System.Text.Json.Serialization;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>A de-identified instance ready to write, and what was done to it.</summary>
public sealed class DeidResult
{
    internal DeidResult(DicomOutputDataset meta, DicomOutputDataset dataset, string transferSyntaxUid, DeidMetadata metadata)
    {
        Meta = meta; Dataset = dataset; TransferSyntaxUid = transferSyntaxUid; Metadata = metadata;
    }

    /// <summary>The regenerated File Meta Information (group 0002): remapped Media Storage SOP Instance UID, Casebook's implementation UID.</summary>
    public DicomOutputDataset Meta { get; }
    public DicomOutputDataset Dataset { get; }
    /// <summary>Explicit VR little endian for native data; the original syntax for encapsulated (compressed) pixel data.</summary>
    public string TransferSyntaxUid { get; }
    public DeidMetadata Metadata { get; }

    public void Save(string path) => DicomWriter.Write(path, Dataset, TransferSyntaxUid, Meta);
    public void WriteTo(Stream stream) => DicomWriter.Write(stream, Dataset, TransferSyntaxUid, Meta);
    public byte[] ToBytes() => DicomWriter.ToBytes(Dataset, TransferSyntaxUid, Meta);
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
    /// <summary>Burned-in annotation: the header flag (0028,0301) and what OCR of the image borders found.</summary>
    public BurnedInAnnotation BurnedInAnnotation { get; init; } = new();
    /// <summary>Mask regions (configured or from OCR) were applied to the pixels.</summary>
    public bool Masked { get; init; }
    public string StudyInstanceUid { get; init; } = "";
    public string SeriesInstanceUid { get; init; } = "";
    public string SopInstanceUid { get; init; } = "";
    /// <summary>Cleaned descriptors, kept private attributes, and anything not done (e.g. a mask not applicable to compressed pixels).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>Burned-in annotation of one instance. The recognised words are never stored: they are what is being removed.</summary>
public sealed record BurnedInAnnotation
{
    /// <summary>(0028,0301) Burned In Annotation was YES.</summary>
    public bool Header { get; init; }
    /// <summary>"checked", "series regions reused", "not configured", "skipped: …", "failed: …".</summary>
    public string Ocr { get; init; } = "not configured";
    /// <summary>Words found in the border band by OCR; null when OCR did not run on this instance.</summary>
    public bool? OcrTextFound { get; init; }
    public int? OcrWords { get; init; }
    /// <summary>The regions of OCR-found text (this instance's and its series') were blacked out in the stored pixels.</summary>
    public bool Masked { get; init; }
    /// <summary>Text may be in the stored pixels: the header says so (masking what OCR found does not prove nothing else is there), or OCR found text that was not masked.</summary>
    public bool Present => Header || (OcrTextFound == true && !Masked);
}

/// <summary>A coded entry of (0012,0064) (PS3.16 CID 7050 De-identification Method).</summary>
public sealed record DeidCode(string Value, string Scheme, string Meaning);
