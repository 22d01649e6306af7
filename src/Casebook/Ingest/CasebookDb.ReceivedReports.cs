using Casebook.Ingest;

namespace Casebook;

/// <summary>
/// A report that arrived as a message (HL7 v2 ORU^R01; Server/Feeds/Hl7) rather than as a file: its text, the patient (source
/// id and issuer, pseudonymised at ingest), and the accession numbers that name its study (filler first, then placer).
/// </summary>
public sealed record ReceivedReport(string Issuer, string PatientId, string Text, IReadOnlyList<string> Accessions, string Name)
{
    public string? Modality { get; init; }
}

/// <summary>Where a received report went: the study, whether it was made for it, the version, and problems (none on success).</summary>
public sealed record ReceivedReportResult(string? StudyId, bool Created, long? Version, IReadOnlyList<IngestError> Errors);

public sealed partial class CasebookDb
{
    /// <summary>Prefix of report-only studies made for a received report whose accession names no stored study.</summary>
    public const string ReportOnlyStudyPrefix = "rpt-";
    /// <summary>Metadata of a report-only study: SHA-256 of the received text that made it (so a resend is recognised).</summary>
    public const string FirstReportHashField = "received_report_sha256";

    /// <summary>
    /// Adds a received report through the text pipeline (segmenting, PHI removal, clinical NLP, embedding), like a report file
    /// dropped next to its study: attached to the live study its accession names (DICOM accessions are matched by their keyed
    /// hash) as a new version, after any report it already has; otherwise a report-only study is made, named
    /// <c>rpt-</c> + the keyed hash of the accession (never the accession itself), so a later report for the same accession
    /// joins it. The study must belong to the report's patient. The same text sent again changes nothing.
    /// </summary>
    public ReceivedReportResult AddReceivedReport(ReceivedReport report, IngestOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(report.Text)) throw new ArgumentException("the report has no text");
        var accessions = report.Accessions.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()).Distinct().ToList();
        if (accessions.Count == 0) throw new ArgumentException("the report names no accession number (filler or placer order number)");
        var key = PatientPseudonym.Load(Options.KeyFile);
        var linker = new StudyLinker(key);
        foreach (var (id, accession, accessionKey) in LiveStudyReferences()) linker.AddStudy(id, accession, accessionKey);
        string? target = null;
        foreach (var a in accessions)
            if ((target = linker.Resolve(new StudyReference(StudyReference.Accession, a))) != null) break;
        var reportOnly = ReportOnlyStudyPrefix + StudyLinker.AccessionKey(key, accessions[0])[..20];
        if (target == null && GetStudy(reportOnly, withSegments: false) != null) target = reportOnly;
        // A resend of the report that made a report-only study: its text's hash is in that study's metadata (attached reports
        // are recognised by the linking path's own attachment hashes).
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(report.Text)));
        if (target != null && GetStudy(target, withSegments: false)?.Metadata[FirstReportHashField]?.GetValue<string>() == sha)
            return new ReceivedReportResult(target, false, null, []);

        var folder = Path.Combine(Path.GetTempPath(), "casebook-report-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(folder);
        try
        {
            IngestResult result;
            if (target != null)
            {
                // Through the linking path: the file's bytes decide whether it is already attached (a resend changes nothing).
                var file = Path.Combine(folder, SafeName(report.Name) + ".txt");
                File.WriteAllText(file, report.Text); // UTF-8 without BOM: the file's hash is the text's (sha above)
                var attachment = new StudyAttachment(file, AttachmentKind.Report, [new StudyReference(StudyReference.StudyId, target)], report.Name)
                    { PatientId = report.PatientId, Issuer = report.Issuer };
                result = Ingest([], [attachment], options);
            }
            else
            {
                var input = new StudyInput(reportOnly, report.PatientId, report.Issuer, report.Modality, null, null, [], report.Name)
                    { ReportText = report.Text, Extra = new Dictionary<string, string> { [FirstReportHashField] = sha } };
                result = Ingest([input], options);
            }
            var errors = result.Errors.Select(e => e with { File = report.Name, Reason = e.Reason.Replace(folder + "/", "") }).ToList();
            return new ReceivedReportResult(target ?? reportOnly, target == null && result.Inserted > 0, result.Versions.Count > 0 ? result.Versions[^1] : null, errors);
        }
        finally
        {
            try { System.IO.Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    static string SafeName(string name)
    {
        var chars = name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray();
        return chars.Length == 0 ? "report" : new string(chars, 0, Math.Min(chars.Length, 80));
    }
}
