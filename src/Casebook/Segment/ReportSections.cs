namespace Casebook.Segment;

/// <summary>
/// Section headers of radiology reports and clinical notes, and the canonical name each maps to. Canonical names
/// are what <see cref="ReportParagraph.Section"/> holds and what the segment's <c>Source.Section</c> stores.
/// </summary>
public static class ReportSections
{
    public const string Body = "BODY";

    static readonly (string Canonical, string[] Aliases)[] Table =
    [
        ("INDICATION", ["INDICATION", "INDICATIONS", "CLINICAL INDICATION", "CLINICAL HISTORY", "HISTORY", "REASON FOR EXAM",
            "REASON FOR EXAMINATION", "REASON FOR STUDY", "CLINICAL INFORMATION", "CLINICAL DETAILS", "CLINICAL DATA",
            "INDICATION FOR EXAM", "INDICATION FOR STUDY"]),
        // Radiology "EXAM: Chest PA and lateral" names the study; a note's "EXAM:" is usually the physical exam. Keep the
        // neutral name rather than guess.
        ("EXAM", ["EXAM", "EXAMINATION", "EXAM PERFORMED", "TYPE OF EXAM", "STUDY", "PROCEDURE STUDY"]),
        ("TECHNIQUE", ["TECHNIQUE", "TECHNIQUES", "EXAM TECHNIQUE", "EXAMINATION TECHNIQUE", "PROTOCOL", "PROCEDURE TECHNIQUE"]),
        ("COMPARISON", ["COMPARISON", "COMPARISONS", "COMPARISON STUDY", "COMPARISON STUDIES", "PRIOR STUDIES", "PRIORS"]),
        ("FINDINGS", ["FINDINGS", "FINDING", "OPERATIVE FINDINGS", "INTRAOPERATIVE FINDINGS", "REPORT", "OBSERVATIONS"]),
        ("IMPRESSION", ["IMPRESSION", "IMPRESSIONS", "IMP", "CONCLUSION", "CONCLUSIONS", "OPINION", "INTERPRETATION", "IMPRESSION/PLAN"]),
        ("RECOMMENDATION", ["RECOMMENDATION", "RECOMMENDATIONS", "FOLLOW-UP", "FOLLOW UP", "FOLLOWUP"]),
        ("ADDENDUM", ["ADDENDUM", "ADDENDA"]),
        ("CHIEF COMPLAINT", ["CHIEF COMPLAINT", "CC", "PRESENTING COMPLAINT", "PC", "REASON FOR VISIT", "REASON FOR CONSULTATION", "REASON FOR REFERRAL"]),
        ("HPI", ["HPI", "HISTORY OF PRESENT ILLNESS", "HISTORY OF THE PRESENT ILLNESS", "PRESENT ILLNESS", "BRIEF HISTORY",
            "HISTORY OF PRESENTING COMPLAINT", "HPC", "HXPC"]),
        ("PAST MEDICAL HISTORY", ["PAST MEDICAL HISTORY", "PMH", "PMHX", "MEDICAL HISTORY", "PAST HISTORY", "PAST MEDICAL HISTORY/SURGICAL HISTORY"]),
        ("PAST SURGICAL HISTORY", ["PAST SURGICAL HISTORY", "PSH", "PSHX", "SURGICAL HISTORY"]),
        ("FAMILY HISTORY", ["FAMILY HISTORY", "FH", "FHX"]),
        ("SOCIAL HISTORY", ["SOCIAL HISTORY", "SH", "SHX"]),
        ("MEDICATIONS", ["MEDICATIONS", "MEDICATION", "CURRENT MEDICATIONS", "MEDS", "HOME MEDICATIONS", "DH", "DRUG HISTORY",
            "DISCHARGE MEDICATIONS", "ADMISSION MEDICATIONS"]),
        ("ALLERGIES", ["ALLERGIES", "ALLERGY", "DRUG ALLERGIES", "MEDICATION ALLERGIES"]),
        ("REVIEW OF SYSTEMS", ["REVIEW OF SYSTEMS", "ROS", "SYSTEMS REVIEW"]),
        ("PHYSICAL EXAM", ["PHYSICAL EXAM", "PHYSICAL EXAMINATION", "PE", "O/E", "ON EXAMINATION", "CLINICAL EXAMINATION"]),
        ("SUBJECTIVE", ["SUBJECTIVE"]),
        ("OBJECTIVE", ["OBJECTIVE"]),
        ("ASSESSMENT", ["ASSESSMENT", "ASSESSMENT AND PLAN", "ASSESSMENT/PLAN", "A/P", "A&P", "CLINICAL IMPRESSION"]),
        ("PLAN", ["PLAN", "TREATMENT PLAN", "PLAN OF CARE", "MANAGEMENT", "MANAGEMENT PLAN"]),
        ("DIAGNOSIS", ["DIAGNOSIS", "DIAGNOSES", "DX", "ADMITTING DIAGNOSIS", "ADMITTING DIAGNOSES", "DISCHARGE DIAGNOSIS", "DISCHARGE DIAGNOSES",
            "FINAL DIAGNOSIS", "WORKING DIAGNOSIS", "DIFFERENTIAL DIAGNOSIS"]),
        ("PREOPERATIVE DIAGNOSIS", ["PREOPERATIVE DIAGNOSIS", "PREOPERATIVE DIAGNOSES", "PREOP DIAGNOSIS", "PRE-OPERATIVE DIAGNOSIS", "PREOPERATIVE DX"]),
        ("POSTOPERATIVE DIAGNOSIS", ["POSTOPERATIVE DIAGNOSIS", "POSTOPERATIVE DIAGNOSES", "POSTOP DIAGNOSIS", "POST-OPERATIVE DIAGNOSIS", "POSTOPERATIVE DX"]),
        ("PROCEDURE", ["PROCEDURE", "PROCEDURES", "PROCEDURE PERFORMED", "PROCEDURES PERFORMED", "OPERATION", "OPERATIONS", "OPERATION PERFORMED",
            "OPERATIONS PERFORMED", "TITLE OF OPERATION", "TITLE OF PROCEDURE", "NAME OF OPERATION", "NAME OF PROCEDURE", "OPERATIVE PROCEDURE",
            "OPERATIVE PROCEDURES"]),
        ("PROCEDURE DETAILS", ["PROCEDURE IN DETAIL", "PROCEDURE DETAIL", "PROCEDURE DETAILS", "DESCRIPTION OF PROCEDURE", "DESCRIPTION OF THE PROCEDURE",
            "DESCRIPTION OF OPERATION", "DESCRIPTION OF THE OPERATION", "DETAILS OF PROCEDURE", "DETAILS OF THE PROCEDURE", "DETAILS OF THE OPERATION",
            "OPERATIVE PROCEDURE IN DETAIL", "PROCEDURE NOTE", "OPERATIVE NOTE", "DESCRIPTION OF PROCEDURE IN DETAIL", "OPERATION IN DETAIL"]),
        ("INDICATION FOR PROCEDURE", ["INDICATION FOR PROCEDURE", "INDICATIONS FOR PROCEDURE", "INDICATIONS FOR THE PROCEDURE", "INDICATION FOR SURGERY",
            "INDICATIONS FOR SURGERY", "INDICATION FOR OPERATION", "INDICATIONS FOR OPERATION"]),
        ("ANESTHESIA", ["ANESTHESIA", "ANAESTHESIA", "ANESTHETIC"]),
        ("LABS", ["LABS", "LABORATORY", "LABORATORY DATA", "LABORATORY RESULTS", "LAB RESULTS", "INVESTIGATIONS"]),
        ("HOSPITAL COURSE", ["HOSPITAL COURSE"]),
        ("DISPOSITION", ["DISPOSITION"]),
        ("COMPLICATIONS", ["COMPLICATIONS"]),
    ];

    /// <summary>Short aliases that are common words or initialisms: accepted only with a colon.</summary>
    static readonly HashSet<string> ColonOnly = new(StringComparer.Ordinal)
    {
        "CC", "PC", "HPI", "HPC", "HXPC", "PMH", "PMHX", "PSH", "PSHX", "FH", "FHX", "SH", "SHX", "DH", "MEDS", "ROS", "PE", "O/E",
        "A/P", "A&P", "DX", "IMP", "HISTORY", "EXAM", "STUDY", "REPORT", "MANAGEMENT", "OPERATION", "PROTOCOL", "PRIORS", "INVESTIGATIONS",
        "OPINION", "INTERPRETATION", "OBSERVATIONS", "LABORATORY", "FOLLOW UP", "FOLLOW-UP", "FOLLOWUP",
    };

    /// <summary>Physical-exam and vital-sign labels: they stay inside the current section instead of opening one.</summary>
    static readonly HashSet<string> SubLabels = new(StringComparer.Ordinal)
    {
        "HEENT", "NECK", "LUNGS", "LUNG", "HEART", "CHEST", "ABDOMEN", "EXTREMITIES", "NEUROLOGIC", "NEUROLOGICAL", "NEURO", "SKIN",
        "GENERAL", "VITALS", "VITAL SIGNS", "CARDIOVASCULAR", "CARDIAC", "GENITALIA", "GENITOURINARY", "RECTAL", "BACK",
        "MUSCULOSKELETAL", "PSYCHIATRIC", "EYES", "EARS", "NOSE", "THROAT", "MOUTH", "ENT", "RESPIRATORY", "GASTROINTESTINAL",
        "LYMPHATICS", "LYMPH NODES", "PELVIC", "BREASTS", "SPINE", "CONSTITUTIONAL", "HEAD", "MENTAL STATUS", "CRANIAL NERVES",
        "MOTOR", "SENSORY", "REFLEXES", "GAIT", "PULSES", "NOTE", "DATE", "TIME", "NAME", "SIGNED", "DICTATED BY", "CC TO",
    };

    static readonly Dictionary<string, string> AliasToCanonical = BuildAliases();

    static Dictionary<string, string> BuildAliases()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (canonical, aliases) in Table)
            foreach (var a in aliases) d[a] = canonical;
        return d;
    }

    /// <summary>Every canonical section name, plus <see cref="Body"/>.</summary>
    public static IReadOnlyList<string> CanonicalNames { get; } = Table.Select(t => t.Canonical).Append(Body).ToList();

    /// <summary>Upper-cases, collapses spaces and drops a plural "(ES)"/"(S)" marker: "Preoperative Diagnosis (es)" → "PREOPERATIVE DIAGNOSIS".</summary>
    public static string Normalize(string label)
    {
        var s = string.Join(' ', label.ToUpperInvariant().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
        foreach (var marker in new[] { " (ES)", "(ES)", " (S)", "(S)" })
            if (s.EndsWith(marker, StringComparison.Ordinal)) { s = s[..^marker.Length]; break; }
        return s.Trim();
    }

    /// <summary>Canonical name of a known header label (any case), or null.</summary>
    public static string? Canonical(string label) => AliasToCanonical.GetValueOrDefault(Normalize(label));

    internal static bool IsColonOnly(string normalized) => ColonOnly.Contains(normalized);
    internal static bool IsSubLabel(string normalized) => SubLabels.Contains(normalized);
}
