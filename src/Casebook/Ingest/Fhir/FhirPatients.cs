using System.Globalization;
using Casebook.Extract.Dicom.Deid;
using Hl7.Fhir.Model;

namespace Casebook.Ingest.Fhir;

/// <summary>
/// A FHIR Patient's identity for pseudonymisation, held in memory only: the identifier that names it (issuer = the
/// identifier's system) gives patient_pseudo_id = HMAC(key, issuer|value) and the date shift, exactly as DICOM's
/// PatientID + IssuerOfPatientID do, so one patient's DICOM and FHIR records link and line up. Names, addresses,
/// telecoms and the other identifiers are never read into anything stored.
/// </summary>
public sealed record FhirPatient(string Issuer, string Id, string PseudoId, DateShift Shift, string? Sex, DateOnly? BirthDate)
{
    const string IdentifierTypeSystem = "http://terminology.hl7.org/CodeSystem/v2-0203";

    /// <summary>
    /// Chooses the identifier: one typed MR (medical record number, HL7 v2 table 0203) first, else the first identifier with a
    /// value that is not a national/insurance/licence number (SS, DL, PPN, SB…), else the logical id under issuer
    /// "fhir:Patient". The issuer is the identifier's system, or <see cref="StudyManifest.DefaultIssuer"/> when it has none
    /// (what DICOM uses without IssuerOfPatientID); <paramref name="issuerOverride"/> replaces it for sites whose DICOM and
    /// FHIR name the same assigning authority differently.
    /// </summary>
    public static FhirPatient? From(Patient p, PatientPseudonym key, string? issuerOverride)
    {
        var ids = p.Identifier.Where(i => !string.IsNullOrWhiteSpace(i.Value)).ToList();
        static string? TypeCode(Identifier i) => i.Type?.Coding.FirstOrDefault(c => c.System == IdentifierTypeSystem)?.Code;
        var chosen = ids.FirstOrDefault(i => TypeCode(i) == "MR")
            ?? ids.FirstOrDefault(i => TypeCode(i) is null or "MR" or "PI" or "PT");
        string issuer, id;
        if (chosen != null) { issuer = string.IsNullOrWhiteSpace(chosen.System) ? StudyManifest.DefaultIssuer : chosen.System!.Trim(); id = chosen.Value.Trim(); }
        else if (!string.IsNullOrWhiteSpace(p.Id)) { issuer = "fhir:Patient"; id = p.Id; }
        else return null;
        if (issuerOverride != null) issuer = issuerOverride;
        var shift = DateShift.ForPatient(key, issuer, id);
        DateOnly? birth = null;
        if (p.BirthDate is { Length: >= 10 } b && DateOnly.TryParseExact(b[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            birth = shift.Apply(d);
        var sex = p.Gender switch
        {
            AdministrativeGender.Male => "M", AdministrativeGender.Female => "F", AdministrativeGender.Other => "O", AdministrativeGender.Unknown => "U", _ => null,
        };
        return new FhirPatient(issuer, id, key.Pseudonymise(issuer, id), shift, sex, birth);
    }

    /// <summary>Age in whole years on <paramref name="on"/> (both dates shifted alike, so the age is true).</summary>
    public int? AgeOn(DateOnly on)
    {
        if (BirthDate is not { } b || on < b) return null;
        var age = on.Year - b.Year;
        if (on < b.AddYears(age)) age--;
        return age;
    }
}
