using System.Text;
using System.Text.RegularExpressions;
using Casebook.Extract.Documents;
using Hl7.Fhir.Model;

namespace Casebook.Ingest.Fhir;

/// <summary>
/// Text of an R4 Attachment (§2.24.0.6) carried inline as base64 <c>data</c>: text/plain (and other text/*, charset
/// honoured), HTML with the tags removed, and PDF through the same extractor as scanned reports (text layer, else OCR).
/// Attachments given only by URL are not fetched (ingest stays offline); that is reported.
/// </summary>
public static class FhirAttachments
{
    static readonly Regex Tags = new("<[^>]+>", RegexOptions.Compiled);
    static readonly Lazy<DocumentTextExtractor> Pdf = new(() => new DocumentTextExtractor());

    /// <param name="documents">The ingest's document settings: when they plug in an extractor (a cluster's workers), PDFs go
    /// through it; otherwise the default local extractor, as before.</param>
    public static string? Text(Attachment a, FhirEntry e, List<IngestError> errors, DocumentExtractionOptions? documents = null)
    {
        var type = (a.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (a.Data == null || a.Data.Length == 0)
        {
            if (!string.IsNullOrWhiteSpace(a.Url))
                errors.Add(new IngestError(e.File, $"{e.Label}: attachment '{a.Title ?? a.Url}' is only a URL; ingest does not fetch it (embed it as data)"));
            return null;
        }
        if (type == "application/pdf" || (type.Length == 0 && a.Data.AsSpan().StartsWith("%PDF"u8)))
        {
            // Named by content, so the same attachment is the same document (and the same worker job) on every run.
            var dir = Directory.CreateTempSubdirectory("casebook-fhir-");
            var tmp = Path.Combine(dir.FullName, "attachment-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(a.Data))[..16] + ".pdf");
            try
            {
                File.WriteAllBytes(tmp, a.Data);
                var text = (documents?.Extractor != null ? new DocumentTextExtractor(documents) : Pdf.Value).Extract(tmp).FullText;
                return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
            }
            catch (DocumentExtractionException ex) { errors.Add(new IngestError(e.File, $"{e.Label}: PDF attachment unreadable: {ex.Message}")); return null; }
            finally { try { dir.Delete(recursive: true); } catch (IOException) { } }
        }
        if (type.StartsWith("text/", StringComparison.Ordinal) || type.Length == 0)
        {
            var encoding = Charset(a.ContentType) ?? new UTF8Encoding(false);
            var text = encoding.GetString(a.Data).TrimStart('\uFEFF');
            if (type is "text/html" or "application/xhtml+xml") text = System.Net.WebUtility.HtmlDecode(Tags.Replace(text, " "));
            if (text.Contains('\0')) { errors.Add(new IngestError(e.File, $"{e.Label}: attachment declared {type} holds binary data")); return null; }
            return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        }
        errors.Add(new IngestError(e.File, $"{e.Label}: attachment of type '{type}' has no text Casebook can read"));
        return null;
    }

    static Encoding? Charset(string? contentType)
    {
        var m = Regex.Match(contentType ?? "", @"charset=""?([\w\-]+)", RegexOptions.IgnoreCase);
        if (!m.Success) return null;
        try { return Encoding.GetEncoding(m.Groups[1].Value); } catch (ArgumentException) { return null; }
    }
}
