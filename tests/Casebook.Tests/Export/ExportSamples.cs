using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Tests.Export;

/// <summary>
/// A few studies with every column set (bytes with NULs and 0xFF, nested JSON, unicode, embeddings,
/// sparse terms, codes) plus one with every nullable column null and every list empty.
/// </summary>
internal sealed class ExportSamples
{
    public readonly Dictionary<string, byte[]> Blobs = new();
    public int BlobReads;

    public byte[] ReadBlob(BlobRef blob)
    {
        Interlocked.Increment(ref BlobReads);
        return Blobs[blob.Sha256];
    }

    public BlobRef Store(byte[] bytes)
    {
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Blobs[sha] = bytes;
        return new BlobRef(sha, bytes.Length);
    }

    public const string UnicodeReport = "Épanchement pleural gauche — 肺 🫁, \"quoted\", tab\tand\nnew line; ü ß";

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)((i * 31 + seed) & 0xFF);
        bytes[0] = 0x00;
        bytes[^1] = 0xFF;
        return bytes;
    }

    public StudyRecord Full()
    {
        var dicom = Store(Pattern(1000, 1));
        return new StudyRecord
        {
            StudyId = "S1",
            PatientPseudoId = "P-ü-001",
            Modality = "CT",
            ExamDate = "2024-02-29",
            ReportText = UnicodeReport,
            DicomImage = dicom,
            DicomMime = "application/dicom",
            ReportPdf = Store(Pattern(777, 2)),
            DictationAudio = Store(Pattern(4096, 3)),
            DictationAudioMime = "audio/wav",
            ImageRegions = JsonNode.Parse("""[{"label":"nodule","bbox":[10,20,30.5,40],"score":0.93,"slice":{"frame":3}}, {"label":"effusion","bbox":[1,2,3,4]}]""")!.AsArray(),
            TimelineEvents = JsonNode.Parse("""[{"date":"2023-12-01","event":"Initial CT","source":"report"},{"date":null,"event":"Follow-up ⏱"}]""")!.AsArray(),
            SparseTerms = new() { ["effusion"] = 1.5f, ["pleural"] = 0.25f, ["épanchement"] = 2f },
            ClinicalCodes = ["ICD10:J90", "SNOMED:60046008", "RadLex:RID34539"],
            Metadata = JsonNode.Parse("""{"referrer":{"name":"Dr. Ünal","npi":null},"priority":2,"flags":[true,false],"site":"北京"}""")!.AsObject(),
            AnatomicalRegions = JsonNode.Parse("""["chest",{"name":"left lung","laterality":"left"}]""")!.AsArray(),
            PathologyFindings = JsonNode.Parse("""[{"finding":"pleural effusion","negated":false,"certainty":0.8}]""")!.AsArray(),
            RiskFactors = JsonNode.Parse("""["smoker",{"factor":"asbestos","years":12}]""")!.AsArray(),
            Segments =
            [
                new SegmentRecord
                {
                    SegmentId = "S1/image_slice/0", Kind = SegmentKind.ImageSlice,
                    Source = new SourceLocation { File = "series1/IM0001.dcm", Frame = 0 },
                    Blob = dicom,
                    BlobMime = "application/dicom",
                    ImageEmbedding = [0.1f, -0.2f, 0.30000001f], ImageModel = "resnet18",
                },
                new SegmentRecord
                {
                    SegmentId = "S1/report_paragraph/0", Kind = SegmentKind.ReportParagraph, Text = "Épanchement pleural.",
                    Source = new SourceLocation { File = "report.pdf", Section = "FINDINGS", Page = 1, CharStart = 0, CharEnd = 20 },
                    TextEmbedding = [1f, 2.5f, -3.25f, 1e-7f], TextModel = "all-MiniLM-L6-v2",
                },
                new SegmentRecord
                {
                    SegmentId = "S1/image_slice/1", Kind = SegmentKind.ImageSlice,
                    Source = new SourceLocation { File = "series1/IM0002.dcm", Frame = 1 },
                    ImageEmbedding = [0.4f, 0.5f, float.Epsilon], ImageModel = "resnet18",
                },
                new SegmentRecord
                {
                    SegmentId = "S1/dictation_segment/0", Kind = SegmentKind.DictationSegment, Text = "pleural effusion on the left",
                    Source = new SourceLocation { File = "dictation.wav", TimeStart = 1.25, TimeEnd = 3.5 },
                    TextEmbedding = [0f, -0f, 42f, float.MaxValue], TextModel = "all-MiniLM-L6-v2",
                },
            ],
        };
    }

    /// <summary>Every nullable column null, every list empty, no segments.</summary>
    public static StudyRecord Empty() => new() { StudyId = "S2-empty" };

    /// <summary>Only some blobs, only text embeddings.</summary>
    public StudyRecord Partial() => new()
    {
        StudyId = "S3",
        PatientPseudoId = "P-003",
        Modality = "MR",
        ExamDate = "1999-12-31",
        ReportText = "",
        DictationAudio = Store(Pattern(10, 9)),
        DictationAudioMime = "audio/mpeg",
        ClinicalCodes = [""],
        SparseTerms = new() { ["mass"] = -0.5f },
        Segments =
        [
            new SegmentRecord
            {
                SegmentId = "S3/timeline_event/0", Kind = SegmentKind.TimelineEvent, Text = "MRI 1999",
                TextEmbedding = [0.5f, 0.25f], TextModel = "m",
            },
        ],
    };

    public List<StudyRecord> All() => [Full(), Empty(), Partial()];
}
