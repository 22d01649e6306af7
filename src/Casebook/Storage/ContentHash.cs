using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Casebook.Model;

namespace Casebook.Storage;

/// <summary>
/// A study's content fingerprint: every stored field and segment (text, source, blob hash, model ids) but not
/// the vectors themselves, which follow from content + model. Equal fingerprints mean re-ingest changes nothing.
/// </summary>
internal static class ContentHash
{
    public static string Of(StudyRecord s)
    {
        var canonical = new
        {
            s.StudyId, s.PatientPseudoId, s.Modality, s.ExamDate, s.ReportText,
            Dicom = s.DicomImage?.Sha256, s.DicomMime, Audio = s.DictationAudio?.Sha256, s.DictationAudioMime, Pdf = s.ReportPdf?.Sha256,
            Regions = s.ImageRegions.ToJsonString(), Timeline = s.TimelineEvents.ToJsonString(),
            Sparse = s.SparseTerms.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value:R}").ToArray(),
            s.ClinicalCodes, Meta = s.Metadata.ToJsonString(),
            Anat = s.AnatomicalRegions.ToJsonString(), Path = s.PathologyFindings.ToJsonString(), Risk = s.RiskFactors.ToJsonString(),
            Segments = s.Segments.Select(g => new { g.SegmentId, g.Kind, g.Text, g.Source, Blob = g.Blob?.Sha256, g.BlobMime, g.TextModel, g.ImageModel }).ToArray(),
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(canonical);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
