namespace Casebook.Ingest.Dicom;

/// <summary>
/// How DICOM studies become slices: embedding budgets per series (evenly spaced slices/frames) and device identity.
/// Every instance still gets its own image_slice segment; the budget only limits which ones are rendered and embedded.
/// </summary>
public sealed class DicomIngestOptions
{
    /// <summary>Embedded slices per volume series (CT, MR, PT, NM, …): evenly spaced along the slice order.</summary>
    public int VolumeSliceBudget { get; set; } = 16;
    /// <summary>Embedded frames per ultrasound (US/IVUS) cine or multi-frame series.</summary>
    public int CineFrameBudget { get; set; } = 16;
    /// <summary>Embedded tiles per whole-slide (SM) series, taken from one pyramid level (see <see cref="DicomSlicer"/>).</summary>
    public int WholeSlideTileBudget { get; set; } = 32;
    /// <summary>Embedded images per series of any other modality (CR, DX, MG, SC, XA, …).</summary>
    public int OtherSeriesBudget { get; set; } = 16;
    /// <summary>
    /// PS3.15 Retain Device Identity Option (0012,0063 "113109"): keep Station Name in the stored DICOM and in metadata. Off by
    /// default; the device is otherwise known only by a keyed hash of manufacturer, model and serial number.
    /// </summary>
    public bool RetainDeviceIdentity { get; set; }
    /// <summary>PS3.15 Retain Institution Identity Option (113112) for stored DICOM.</summary>
    public bool RetainInstitutionIdentity { get; set; }
    /// <summary>PS3.15 Retain Patient Characteristics Option (113108): sex, age, size, weight, … kept in stored DICOM (metadata keeps sex and the age band either way).</summary>
    public bool RetainPatientCharacteristics { get; set; }
    /// <summary>PS3.15 Clean Structured Content Option (113104): SR content kept, cleaned, instead of emptied.</summary>
    public bool CleanStructuredContent { get; set; }
    /// <summary>PS3.15 Clean Graphics Option (113103): overlays and graphic annotations kept with their text removed, instead of removed.</summary>
    public bool CleanGraphics { get; set; }
    /// <summary>Private attributes kept (Retain Safe Private, 113111); everything else private is removed.</summary>
    public IReadOnlyList<Casebook.Extract.Dicom.Deid.SafePrivateTag> SafePrivateTags { get; set; } = [];
    /// <summary>
    /// Burned-in text: OCR (Tesseract) of the key frame's borders for modalities that burn text in (US, SC, XA, RF, CR, DX, OT, ES),
    /// a budget of instances per series (later ones reuse the series' regions); flagged in metadata, masked when <c>Mask</c> is set.
    /// Default: detect and flag, do not mask. Null: header flag (0028,0301) only, no OCR.
    /// </summary>
    public Casebook.Extract.Dicom.Deid.BurnedInTextOptions? BurnedInText { get; set; } = new();
    /// <summary>
    /// Network feeds: a study that is already stored keeps the instances this ingest does not bring again (and its attached text),
    /// instead of being rebuilt from this ingest's instances alone (<see cref="DicomStudyMerge"/>). Off for file ingest.
    /// </summary>
    public bool KeepStoredInstances { get; set; }
    /// <summary>Largest DICOM instance read (bytes).</summary>
    public long MaxInstanceBytes { get; set; } = 2L << 30;
    /// <summary>Body, lungs and bone of each CT series from rule-based masks into anatomical_regions (docs/anatomy.md).</summary>
    public bool CtRuleAnatomy { get; set; } = true;
}
