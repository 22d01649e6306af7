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
    /// PS3.15 Retain Device Identity Option (0012,0063 "113109"): keep StationName in metadata. Off by default; the
    /// device is otherwise known only by a keyed hash of manufacturer, model and serial number.
    /// </summary>
    public bool RetainDeviceIdentity { get; set; }
    /// <summary>Largest DICOM instance read (bytes).</summary>
    public long MaxInstanceBytes { get; set; } = 2L << 30;
}
