using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Embed;

namespace Casebook.Tests.Cluster;

/// <summary>
/// `reembed --cluster` with a real model switch, on its own small cluster (1 NATS node, Redis, 1 silo, 2 shards): the shared
/// fixture's image model must stay the default for the other cluster tests.
/// </summary>
public sealed class ClusterReembedTests : IDisposable
{
    readonly TempDirectory _dir = new();
    string ClusterFile => _dir["cluster/cluster.json"];

    string Cli(params string[] args)
    {
        var (code, stdout, stderr) = CliProcess.Run(_dir.Path, _dir.KeyFile, TimeSpan.FromMinutes(4), args);
        if (code != 0) throw new InvalidOperationException($"casebook {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    [Fact]
    public async Task Reembedding_images_with_another_model_goes_through_the_log_and_equals_one_node()
    {
        LocalCluster.Require("nats-server");
        LocalCluster.Require("redis-server");
        ClusterCorpus.Write(_dir["corpus"], 0, 12); // three pictures
        // The packaged ResNet-18 configured as a generic model: another model id, the same network.
        var onnx = Path.Combine(ResNet18ImageEmbedder.FindModelDirectory(), "ResNet18Onnx", "ResNet18.onnx");
        var models = _dir["models.json"];
        File.WriteAllText(models, $$"""
            { "defaults": { "image": "resnet-generic" },
              "models": [ { "name": "resnet-generic", "kind": "image", "path": {{System.Text.Json.JsonSerializer.Serialize(onnx)}},
                            "inputSize": 224, "channelOrder": "bgr", "pixelScale": 1, "mean": [103.06, 115.90, 123.15], "std": [1, 1, 1],
                            "pooling": "mean", "outputName": "Pooling395_Output_0" } ] }
            """);
        Cli("cluster", "up", "--silos", "1", "--nats", "1", "--shards", "2", "--data", _dir["cluster"]);
        Cli("ingest", _dir["corpus"], "--cluster", ClusterFile, "--json");
        Cli("ingest", _dir["corpus"], "--db", _dir["single"], "--json");

        var one = JsonNode.Parse(Cli("reembed", "--kind", "image", "--models", models, "--json", "--db", _dir["single"]))!.AsObject();
        var cluster = JsonNode.Parse(Cli("reembed", "--kind", "image", "--models", models, "--json", "--cluster", ClusterFile))!.AsObject();
        Assert.NotEmpty(one["versions"]!.AsArray());
        Assert.Equal((string)one["model"]!, (string)cluster["model"]!);
        Assert.Equal(3, (int)cluster["studies"]!);

        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(ClusterFile));
        using var single = CasebookDb.Open(_dir["single"], new CasebookOptions { KeyFile = _dir.KeyFile });
        async Task SameAsOneNode(string what)
        {
            var compared = 0;
            for (var n = 0; n < 2; n++)
                await foreach (var s in client.LiveStudiesAsync(n))
                {
                    var expected = single.GetStudy(s.StudyId)!.Segments.ToDictionary(g => g.SegmentId);
                    foreach (var g in s.Segments.Where(g => g.ImageEmbedding != null))
                    {
                        Assert.Equal(expected[g.SegmentId].ImageModel, g.ImageModel);
                        Assert.True(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(g.ImageEmbedding!, expected[g.SegmentId].ImageEmbedding!) > 0.9999, $"{what}: {g.SegmentId}");
                        compared++;
                    }
                }
            Assert.Equal(3, compared);
        }
        await SameAsOneNode("after reembed");
        // Each shard holding a picture made a version for it (the entry it applied).
        var versions = JsonNode.Parse(Cli("versions", "--json", "--cluster", ClusterFile))!["versions"]!.AsArray();
        foreach (var shard in (cluster["applied"]!.AsObject()).Select(kv => int.Parse(kv.Key)))
            Assert.Contains(versions, v => (int)v!["shard"]! == shard && (string)v["message"]! == $"cluster log seq {(long)cluster["applied"]![shard.ToString()]!}");
        // A replay reproduces it: shards rebuilt from the log alone hold the new model's vectors.
        for (var n = 0; n < 2; n++) await client.RebuildShardAsync(n);
        await SameAsOneNode("after rebuild");
        // Again with the same model: nothing to do on either side.
        Assert.Equal(0, (int)JsonNode.Parse(Cli("reembed", "--kind", "image", "--models", models, "--json", "--cluster", ClusterFile))!["studies"]!);
    }

    public void Dispose()
    {
        if (File.Exists(ClusterFile)) LocalCluster.Down(ClusterConfig.Load(ClusterFile));
        _dir.Dispose();
    }
}
