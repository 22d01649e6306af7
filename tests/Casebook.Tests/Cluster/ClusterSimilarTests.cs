using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Model;
using Casebook.Search;
using Casebook.Validation;

namespace Casebook.Tests.Cluster;

/// <summary>
/// Similar cases by image evidence through the cluster, against one node over the same corpus (every 4th study has a
/// picture): by an image file, by a study's slices (pooled vector plus its report), and similar clinician regions.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterSimilarTests(LocalClusterFixture f)
{
    [Fact]
    public async Task Similar_by_an_image_and_by_a_studys_slices_through_the_cluster_equal_one_node()
    {
        // The CLI contract once for each form (same JSON), then more queries in-process.
        var picture = Path.Combine(f.Corpus, "images/p8.png");
        var byImage = JsonNode.Parse(f.Cli("similar", "--image", picture, "--limit", "5", "--json", "--db", f.SingleDb))!;
        Assert.Equal(5, byImage["results"]!.AsArray().Count);
        ClusterTests.SameUpToFloatRounding(byImage, JsonNode.Parse(f.Cli("similar", "--image", picture, "--limit", "5", "--json", "--cluster", f.ClusterFile)), "CLI similar --image");
        ClusterTests.SameUpToFloatRounding(JsonNode.Parse(f.Cli("similar", "--study", "CL-0012", "--limit", "5", "--json", "--db", f.SingleDb)),
            JsonNode.Parse(f.Cli("similar", "--study", "CL-0012", "--limit", "5", "--json", "--cluster", f.ClusterFile)), "CLI similar --study (with a picture)");

        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        var queries = new List<(SimilarQuery Query, string What)>();
        foreach (var n in new[] { 4, 16, 20 })
            queries.Add((new SimilarQuery(Image: File.ReadAllBytes(Path.Combine(f.Corpus, $"images/p{n}.png")), Limit: 4), $"image p{n}"));
        queries.Add((new SimilarQuery(Image: File.ReadAllBytes(picture), Limit: 6, Filter: "modality = 'CT'"), "image p8, CT only"));
        foreach (var id in new[] { "CL-0004", "CL-0016", "CL-0020" })
        {
            // The query study has slices: its pooled image vector searches the image index beside its report's text.
            Assert.NotNull(SimilarCases.PooledImage(db.GetStudy(id)!));
            queries.Add((new SimilarQuery(StudyId: id, Limit: 5), $"study {id}"));
        }
        foreach (var (query, what) in queries)
        {
            var one = db.Similar(query).ToJson();
            Assert.NotEmpty(one["results"]!.AsArray());
            var cluster = (await client.SimilarAsync(query)).ToJson();
            ClusterTests.SameUpToFloatRounding(one, cluster, what);
            if (query.StudyId != null) Assert.DoesNotContain(query.StudyId, cluster["results"]!.AsArray().Select(r => (string)r!["study_id"]!));
        }
        // An image query finds the picture itself: CL-0008's own image is its best hit.
        var best = (await client.SimilarAsync(new SimilarQuery(Image: File.ReadAllBytes(picture), Limit: 1))).Results.Single();
        Assert.Equal("CL-0008", best.StudyId);
    }

    [Fact]
    public async Task Similar_regions_through_the_cluster_equal_one_node()
    {
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using (var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile }))
        {
            // Clinician boxes on three pictures, drawn on both with the same clinician time (so the same content) and each
            // side's own base version (a shard numbers its own versions).
            foreach (var (id, box, label) in new[] { ("CL-0016", "30,30,60,60", "disc"), ("CL-0024", "10,15,50,100", "bar"), ("CL-0036", "20,20,60,90", "bar right") })
            {
                var slice = Slice(db, id);
                var time = ClusterCommand.NowTime();
                if (db.Regions(id).OfType<JsonObject>().All(r => (string?)r["label"] != label))
                    db.AddRegion(id, slice, RegionBox.Parse(box), label, new Attribution("dr-regions", "clinician", null, time), db.History(id)[^1].Version);
                var cl = await client.RegionsAsync(id);
                if (cl!.OfType<JsonObject>().All(r => (string?)r["label"] != label))
                {
                    var outcome = await client.ChangeAsync(new ClusterCommand
                    {
                        Command = ClusterCommand.Region, StudyId = id, Author = "dr-regions", Role = "clinician", Time = time,
                        BaseVersion = (await client.HistoryAsync(id))[^1]!["version"]!.GetValue<long>(),
                        Args = new JsonObject { ["slice"] = slice, ["box"] = box, ["label"] = label },
                    });
                    Assert.True(outcome.Error == null, outcome.Message);
                }
            }
            // In-process: a crop of another study's picture against the regions of every shard.
            foreach (var (id, box) in new[] { ("CL-0008", "24,24,80,80"), ("CL-0028", "30,10,40,110") })
            {
                var one = SimilarCases.Regions(db, id, Slice(db, id), RegionBox.Parse(box), 3);
                var cluster = await client.SimilarRegionsAsync(id, Slice(db, id), RegionBox.Parse(box), 3);
                Assert.Equal(3, one.Count);
                Assert.Equal(one.Select(h => (h.StudyId, h.RegionId, h.Label)), cluster.Select(h => (h.StudyId, h.RegionId, h.Label)));
                Assert.All(one.Zip(cluster), p => Assert.True(Math.Abs(p.First.Score - p.Second.Score) <= 2e-6, $"{p.First.Score} vs {p.Second.Score}"));
            }
            // A box outside the slice and a segment that is not there are refused with one node's message.
            var outside = Assert.Throws<ArgumentException>(() => SimilarCases.Regions(db, "CL-0008", Slice(db, "CL-0008"), RegionBox.Parse("100,100,60,60"), 3));
            Assert.Equal(outside.Message, (await Assert.ThrowsAsync<ArgumentException>(() => client.SimilarRegionsAsync("CL-0008", Slice(db, "CL-0008"), RegionBox.Parse("100,100,60,60"), 3))).Message);
            var missing = Assert.Throws<ArgumentException>(() => SimilarCases.Regions(db, "CL-0008", "CL-0008/no-such", RegionBox.Parse("1,1,5,5"), 3));
            Assert.Equal(missing.Message, (await Assert.ThrowsAsync<ArgumentException>(() => client.SimilarRegionsAsync("CL-0008", "CL-0008/no-such", RegionBox.Parse("1,1,5,5"), 3))).Message);
            // The CLI: `similar --study ID --region SEG:x,y,w,h` prints one node's JSON.
            var spec = Slice(db, "CL-0012") + ":20,20,70,70";
            var a = JsonNode.Parse(f.Cli("similar", "--study", "CL-0012", "--region", spec, "--limit", "2", "--json", "--db", f.SingleDb))!;
            Assert.Equal(2, a["results"]!.AsArray().Count);
            ClusterTests.SameUpToFloatRounding(a, JsonNode.Parse(f.Cli("similar", "--study", "CL-0012", "--region", spec, "--limit", "2", "--json", "--cluster", f.ClusterFile)), "CLI similar --region");
        }
    }

    static string Slice(CasebookDb db, string id) => db.GetStudy(id)!.Segments.First(g => g.Kind == SegmentKind.ImageSlice && g.Blob != null).SegmentId;
}
