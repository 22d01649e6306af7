using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Tests.Storage;

/// <summary>Builds studies with every field set, for storage tests that do not need the models.</summary>
public static class StudyFactory
{
    public static StudyRecord Full(CasebookDb db, string id, string patient = "p1", string report = "FINDINGS: small left pleural effusion.", int seed = 1)
    {
        var rng = new Random(seed);
        float[] Vec(int d) { var v = new float[d]; for (var i = 0; i < d; i++) v[i] = (float)rng.NextDouble() - 0.5f; var n = MathF.Sqrt(v.Sum(x => x * x)); for (var i = 0; i < d; i++) v[i] /= n; return v; }
        var dicom = db.Blobs.Put(System.Text.Encoding.ASCII.GetBytes("DICM-fake-key-instance-" + id));
        return new StudyRecord
        {
            StudyId = id,
            PatientPseudoId = patient,
            Modality = "CR",
            ExamDate = "2024-03-01",
            ReportText = report,
            DicomImage = dicom,
            DicomMime = "application/dicom",
            DictationAudio = db.Blobs.Put([1, 2, 3, 4, 5]),
            DictationAudioMime = "audio/wav",
            ReportPdf = db.Blobs.Put(System.Text.Encoding.ASCII.GetBytes("%PDF-1.4 fake")),
            ImageRegions = new JsonArray(new JsonObject { ["label"] = "effusion", ["x"] = 10, ["y"] = 20, ["w"] = 5, ["h"] = 6 }),
            TimelineEvents = new JsonArray(new JsonObject { ["date"] = "2024-03-01", ["event"] = "chest x-ray" }),
            SparseTerms = new Dictionary<string, float> { ["effus"] = 1.5f, ["pleural"] = 1.2f },
            ClinicalCodes = ["ICD10:J90"],
            Metadata = new JsonObject { ["body_part"] = "CHEST", ["sex"] = "F", ["age_band"] = "60-64" },
            AnatomicalRegions = new JsonArray("left pleural space"),
            PathologyFindings = new JsonArray(new JsonObject { ["finding"] = "pleural effusion", ["negated"] = false }),
            RiskFactors = new JsonArray("smoking"),
            Segments =
            [
                new SegmentRecord { SegmentId = id + "/report_paragraph/0", Kind = SegmentKind.ReportParagraph, Text = report,
                    Source = new SourceLocation { File = "r.txt", Section = "FINDINGS", CharStart = 0, CharEnd = report.Length },
                    TextEmbedding = Vec(8), TextModel = "test-text@0" },
                new SegmentRecord { SegmentId = id + "/image_slice/0", Kind = SegmentKind.ImageSlice, Blob = dicom, BlobMime = "application/dicom",
                    Source = new SourceLocation { File = "i.dcm", Frame = 0 }, ImageEmbedding = Vec(4), ImageModel = "test-image@0" },
            ],
        };
    }
}
