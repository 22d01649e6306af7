namespace Casebook.Server.Security;

/// <summary>
/// The roles a key or token carries. Clinicians see identified-by-pseudonym clinical data and originals; researchers see
/// de-identified data only (no original blobs, no dictation audio, small counts suppressed) and may export; validators
/// may validate; admins ingest and read keys and audit.
/// </summary>
public static class Roles
{
    public const string Clinician = "clinician";
    public const string Researcher = "researcher";
    public const string Validator = "validator";
    public const string Admin = "admin";
    public static readonly IReadOnlyList<string> All = [Clinician, Researcher, Validator, Admin];

    public static bool IsKnown(string role) => All.Contains(role);

    /// <summary>Authorization policy names (one per group of roles an endpoint allows).</summary>
    public static class Policies
    {
        public const string AnyRole = "any-role";
        /// <summary>Original blobs (DICOM, audio, PDF): not researchers.</summary>
        public const string Originals = "originals";
        public const string Export = "export";
        /// <summary>Look-up by MRN: clinicians (and admins).</summary>
        public const string ClinicalLookup = "clinical-lookup";
        public const string Admin = "admin";
        /// <summary>Validation actions (findings, diagnoses, regions): clinicians, validators, admins (as the engine's ValidationRoles).</summary>
        public const string Validation = "validation";
    }

    /// <summary>Small-cell suppression for researchers: counts under 11 are shown as "&lt;11" (common disclosure rule).</summary>
    public const int SmallCountThreshold = 11;
}
