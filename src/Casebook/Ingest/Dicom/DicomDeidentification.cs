using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// The seam between ingest and the PS3.15 de-identifier (<see cref="DicomDeidentifier"/>). Stored DICOM — the key
/// instance in dicom_image and every slice blob — is always de-identified bytes, never the original. Fail closed: an
/// instance the de-identifier refuses is skipped with an error, and with no de-identifier (<see cref="DicomDeidentification.Factory"/>
/// returning null) no DICOM blob is stored at all and metadata.dicom.blobs says so.
/// </summary>
public interface IDicomDeidentifier
{
    /// <summary>De-identified Part 10 bytes of one instance of a patient named under <paramref name="issuer"/>, and what was applied.</summary>
    DeidOutput Deidentify(byte[] original, string issuer);
    /// <summary>The patient's date shift in days (Retain Longitudinal Temporal Information with Modified Dates), or null when dates are removed.</summary>
    int? DateShiftDays(string issuer, string patientId);
}

/// <summary>The stored bytes and the de-identification record (profile, options, burned-in annotation) that goes into metadata.</summary>
public sealed record DeidOutput(byte[] Bytes, DeidMetadata Metadata);

public static class DicomDeidentification
{
    /// <summary>The engine's <see cref="DicomIngestOptions"/> as PS3.15 options. Ingest always remaps UIDs (study ids are remapped
    /// StudyInstanceUIDs), shifts dates and cleans descriptors: those are what make stored studies link and carry no dates.</summary>
    public static DeidOptions OptionsFor(DicomIngestOptions options, string issuer) => DeidOptions.Default with
    {
        Issuer = issuer,
        RetainDeviceIdentity = options.RetainDeviceIdentity,
        RetainInstitutionIdentity = options.RetainInstitutionIdentity,
        RetainPatientCharacteristics = options.RetainPatientCharacteristics,
        CleanStructuredContent = options.CleanStructuredContent,
        CleanGraphics = options.CleanGraphics,
        SafePrivateTags = options.SafePrivateTags,
        BurnedInText = options.BurnedInText,
    };

    /// <summary>The de-identifier ingest uses (default: the Basic Profile with Casebook's options); null = none (fail closed).</summary>
    public static Func<PatientPseudonym, DicomIngestOptions, IDicomDeidentifier?> Factory { get; set; } = (key, options) => new Ps315(key, options);

    /// <summary>PS3.15 Basic Application Level Confidentiality Profile, Retain Longitudinal (modified dates), Clean Descriptors; the other options as configured.</summary>
    sealed class Ps315(PatientPseudonym key, DicomIngestOptions options) : IDicomDeidentifier
    {
        readonly Dictionary<string, DicomDeidentifier> _byIssuer = new();

        DicomDeidentifier For(string issuer)
        {
            lock (_byIssuer)
            {
                if (!_byIssuer.TryGetValue(issuer, out var d))
                    // The issuer makes the stored PatientID pseudonym equal patient_pseudo_id (same key, same issuer|id).
                    _byIssuer[issuer] = d = new DicomDeidentifier(key, OptionsFor(options, issuer));
                return d;
            }
        }

        public DeidOutput Deidentify(byte[] original, string issuer)
        {
            using var file = DicomFile.Open(original);
            try { var r = For(issuer).Deidentify(file); return new DeidOutput(r.ToBytes(), r.Metadata); }
            catch (Exception e) when (e is not (InvalidDataException or IOException or OutOfMemoryException))
            {
                // Fail closed on anything unexpected: the instance is skipped (reported), never stored as original bytes.
                throw new InvalidDataException($"de-identification failed: {e.GetBaseException().Message}", e);
            }
        }

        public int? DateShiftDays(string issuer, string patientId) =>
            DeidOptions.Default.RetainLongitudinalModifiedDates ? DateShift.ForPatient(key, issuer, patientId).Days : null;
    }
}
