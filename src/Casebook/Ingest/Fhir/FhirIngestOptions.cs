using Casebook.Timeline;

namespace Casebook.Ingest.Fhir;

/// <summary>FHIR ingest settings.</summary>
public sealed class FhirIngestOptions
{
    /// <summary>
    /// Issuer used for every FHIR patient instead of the identifier's system (null: the system, or "local" when it has none).
    /// Set it to the DICOM IssuerOfPatientID (or "local" when DICOM has none) when the two name the same MRNs differently.
    /// </summary>
    public string? Issuer { get; set; }
    public TimelineOptions Timeline { get; set; } = new();
}

/// <summary>What the FHIR part of an ingest did.</summary>
public sealed record FhirIngestStats(int Files, int Resources, int Unmapped, int Events, int EventsChanged, int Studies, long? EventVersion, double Seconds);
