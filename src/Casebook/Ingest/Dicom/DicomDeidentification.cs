namespace Casebook.Ingest.Dicom;

/// <summary>
/// The seam between ingest and the PS3.15 de-identifier (Extract/Dicom/Deid, branch deid). Stored DICOM — the key
/// instance in dicom_image and every slice blob — must be de-identified bytes, never the original. Fail closed: while
/// no de-identifier is wired in, ingest stores NO DICOM blob at all (slices keep their position, frame and embedding,
/// dicom_image stays null) and records <c>metadata.dicom.blobs = "withheld: no de-identifier"</c>.
/// </summary>
public interface IDicomDeidentifier
{
    /// <summary>De-identified Part 10 bytes of one instance, for the patient's key and date shift.</summary>
    byte[] Deidentify(byte[] original, string sourceName);
    /// <summary>The patient's date shift in days (PS3.15 Retain Longitudinal Temporal Information with Modified Dates), or null when not known.</summary>
    int? DateShiftDays(string issuer, string patientId);
}

public static class DicomDeidentification
{
    /// <summary>The de-identifier ingest uses; null = none available (fail closed, see above).</summary>
    public static Func<PatientPseudonym, IDicomDeidentifier?> Factory { get; set; } = _ => null;
}
