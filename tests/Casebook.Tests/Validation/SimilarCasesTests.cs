using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Search;
using Casebook.Storage;
using Casebook.Timeline;
using Casebook.Validation;

namespace Casebook.Tests.Validation;

/// <summary>Similar cases and region search on real BreastMNIST images embedded with the real ResNet-18 model.</summary>
public class SimilarCasesTests
{
    static readonly Attribution Val = new("val", "validator");

    /// <summary>Image-only studies B0..Bn-1 from BreastMNIST test images (one slice each), patients P0..; exam 2020-01-01.</summary>
    internal static long ImageStudies(CasebookDb db, int n, Func<int, JsonObject>? metadata = null)
    {
        var dir = SharedData.Require("images/breastmnist");
        var batch = new WriteBatch();
        var pngs = Enumerable.Range(0, n).Select(i => File.ReadAllBytes(Path.Combine(dir, $"test_{i:0000}.png"))).ToList();
        var vectors = db.ImageEmbedder.Embed(pngs);
        for (var i = 0; i < n; i++)
        {
            var blob = db.Blobs.Put(pngs[i]);
            batch.Upserts.Add(new StudyRecord
            {
                StudyId = $"B{i}", PatientPseudoId = $"P{i}", Modality = "US", ExamDate = "2020-01-01", Metadata = metadata?.Invoke(i) ?? new JsonObject(),
                Segments = [new SegmentRecord { SegmentId = $"B{i}/image_slice/0", Kind = SegmentKind.ImageSlice, Blob = blob, BlobMime = "image/png",
                    Source = new SourceLocation { File = $"test_{i:0000}.png" }, ImageEmbedding = vectors[i], ImageModel = db.ImageEmbedder.Model.Id }],
            });
        }
        return db.Commit(batch, "breastmnist").Version!.Value;
    }

    [Fact]
    public void Region_search_finds_the_drawn_region_that_looks_like_the_crop_and_places_it_in_patient_space()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        // B0 has DICOM-style geometry: 0.5 mm pixels on an axial plane at z = 10.
        ImageStudies(db, 3, i => i == 0
            ? new JsonObject { ["image_position_patient"] = new JsonArray(-100.0, -50.0, 10.0), ["image_orientation_patient"] = new JsonArray(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), ["pixel_spacing"] = new JsonArray(0.5, 0.5) }
            : new JsonObject());
        var r0 = db.AddRegion("B0", "B0/image_slice/0", new RegionBox(2, 3, 14, 12), "mass", Val, db.CurrentVersion);
        var corners = r0.Change["patient"]!.AsArray();
        Assert.Equal([-99.0, -48.5, 10.0], corners[0]!.AsArray().Select(v => v!.GetValue<double>()));  // (2,3) → -100 + 2·0.5, -50 + 3·0.5
        Assert.Equal([-92.5, -43.0, 10.0], corners[2]!.AsArray().Select(v => v!.GetValue<double>())); // (15,14)
        db.AddRegion("B1", "B1/image_slice/0", new RegionBox(10, 10, 16, 16), "cyst", Val, db.CurrentVersion);
        var noGeometry = db.AddRegion("B2", "B2/image_slice/0", new RegionBox(0, 0, 12, 28), "shadow", Val, db.CurrentVersion);
        Assert.Null(noGeometry.Change["patient"]);
        // A polygon keeps its vertices (pixel and patient space); its bounding box is what is embedded.
        var poly = db.AddRegion("B0", "B0/image_slice/0", [(4, 4), (20, 6), (12, 22)], "nodule outline", Val, db.CurrentVersion);
        Assert.Equal("polygon", poly.Change["shape"]!.GetValue<string>());
        Assert.Equal((4, 4, 17, 19), (poly.Change["pixel"]!["x"]!.GetValue<int>(), poly.Change["pixel"]!["y"]!.GetValue<int>(), poly.Change["pixel"]!["w"]!.GetValue<int>(), poly.Change["pixel"]!["h"]!.GetValue<int>()));
        Assert.Equal(3, poly.Change["pixel"]!["points"]!.AsArray().Count);
        Assert.Equal([-90.0, -47.0, 10.0], poly.Change["patient"]![1]!.AsArray().Select(v => v!.GetValue<double>())); // (20,6)
        Assert.Throws<ArgumentException>(() => db.AddRegion("B0", "B0/image_slice/0", [(1, 3), (5, 3), (9, 3)], "line", Val, db.CurrentVersion)); // no area
        Assert.Equal(2, db.GetStudy("B0")!.ImageRegions.Count);
        Assert.Throws<ArgumentException>(() => db.AddRegion("B1", "B1/image_slice/0", new RegionBox(20, 20, 20, 20), "x", Val, db.CurrentVersion)); // outside 28x28

        // The same crop of B1's slice finds B1's region first, with (near) identical vectors.
        var hits = SimilarCases.Regions(db, "B1", "B1/image_slice/0", new RegionBox(10, 10, 16, 16), 3);
        Assert.Equal(3, hits.Count);
        Assert.Equal(("B1", "cyst"), (hits[0].StudyId, hits[0].Label));
        Assert.True(hits[0].Score > 0.99, $"score {hits[0].Score}");
        Assert.True(hits[1].Score < hits[0].Score);
        // Regions are segments: `validated` and `kind` filters see them.
        Assert.Equal(3, db.Search(null, null).WithImageVector(db.GetStudy("B0")!.Segments[0].ImageEmbedding!).Where("kind = 'image_region'").Limit(10).ToList().Count);
    }

    [Fact]
    public void Similar_cases_carry_outcomes_and_the_summary_counts_the_cases_behind_each()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        ImageStudies(db, 8);
        // Timeline outcomes (FHIR-like events) for P1..P4: a confirmed condition 30 days after the exam; P2's is only provisional.
        db.CommitEvents(Enumerable.Range(1, 4).Select(i => new TimelineEvent
        {
            EventId = $"Condition/{i}", PatientPseudoId = $"P{i}", Type = EventType.Condition, Source = $"Condition/{i}",
            Status = i == 2 ? "provisional" : "confirmed", Time = "2020-01-31", SortTime = "2020-01-31T00:00:00Z",
            CodeSystem = "http://snomed.info/sct", Code = "254837009", Display = "Malignant neoplasm of breast",
        }).ToList(), "events");
        // Clinician diagnoses: B5 and B6 confirmed benign; B3 refutes the timeline's code (outranks it).
        foreach (var id in new[] { "B5", "B6" }) db.SetDiagnosis(id, "D24.9", "icd10cm", "confirmed", Val, db.CurrentVersion, "Benign neoplasm of breast");
        db.SetDiagnosis("B3", "254837009", "snomed", "refuted", Val, db.CurrentVersion);

        var result = db.Similar(new SimilarQuery(StudyId: "B0", Limit: 7));
        var ids = result.Results.Select(r => r.StudyId).ToList();
        Assert.Equal(7, ids.Count);
        Assert.DoesNotContain("B0", ids);
        Assert.True(result.Results.Zip(result.Results.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        JsonArray Out(string id) => result.Results.Single(r => r.StudyId == id).Outcomes;
        Assert.Equal("254837009", Out("B1")[0]!["code"]!.GetValue<string>());
        Assert.Empty(Out("B2")); // provisional: not an outcome
        Assert.Empty(Out("B3")); // refuted by the clinician
        Assert.Equal("validation", Out("B5")[0]!["origin"]!.GetValue<string>());

        var cancer = result.Summary.Single(s => s.Code == "254837009");
        Assert.Equal(["B1", "B4"], cancer.StudyIds);
        Assert.Equal(2, cancer.Count);
        var benign = result.Summary.Single(s => s.Code == "D24.9");
        Assert.Equal(["B5", "B6"], benign.StudyIds);
        Assert.Equal("Benign neoplasm of breast", benign.Display);
        var json = result.ToJson();
        Assert.Equal(["results", "summary"], json.Select(kv => kv.Key));
        Assert.Equal(["study_id", "score", "outcomes"], json["results"]![0]!.AsObject().Select(kv => kv.Key));
        Assert.Equal(["code", "display", "count", "study_ids"], json["summary"]![0]!.AsObject().Select(kv => kv.Key));

        // By image file: the query image itself is the best hit.
        var byImage = db.Similar(new SimilarQuery(Image: File.ReadAllBytes(Path.Combine(SharedData.Require("images/breastmnist"), "test_0004.png")), Limit: 3));
        Assert.Equal("B4", byImage.Results[0].StudyId);
        Assert.Throws<ArgumentException>(() => db.Similar(new SimilarQuery(StudyId: "B0", Text: "x")));
    }
}
