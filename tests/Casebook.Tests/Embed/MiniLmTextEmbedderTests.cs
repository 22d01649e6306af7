using Xunit;
using Casebook.Embed;

namespace Casebook.Tests.Embed;

[Collection(EmbeddingCollection.Name)]
public sealed class MiniLmTextEmbedderTests(EmbeddingFixture models)
{
    [Fact]
    public void Vectors_have_384_dimensions_and_unit_length()
    {
        var vectors = models.Text.Embed(["a chest x-ray", "", "Pneumothorax on the left."]);
        Assert.Equal(3, vectors.Length);
        foreach (var v in vectors)
        {
            Assert.Equal(384, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
        }
        Assert.Equal(384, models.Text.Model.Dimension);
        Assert.Equal("all-MiniLM-L6-v2", models.Text.Model.Name);
        Assert.Equal(64, models.Text.Model.FileSha256.Length);
        Assert.StartsWith("all-MiniLM-L6-v2@", models.Text.Model.Id);
    }

    [Fact]
    public void Paraphrases_score_higher_than_unrelated_text()
    {
        var v = models.Text.Embed(["a chest x-ray", "a radiograph of the chest", "the invoice is due next friday", "hi", "hello"]);
        var paraphrase = VectorMath.Cosine(v[0], v[1]);
        var unrelated = VectorMath.Cosine(v[0], v[2]);
        Assert.True(paraphrase > 0.6, $"paraphrase cosine {paraphrase}");
        Assert.True(paraphrase > unrelated + 0.3, $"paraphrase {paraphrase} vs unrelated {unrelated}");
        Assert.True(VectorMath.Cosine(v[3], v[4]) > 0.8); // reference check used by langchain4j for this model
    }

    [Fact]
    public void Batch_result_equals_single_results()
    {
        string[] texts = ["no acute cardiopulmonary abnormality", "small left pleural effusion", "x", "heart size is normal and the lungs are clear bilaterally"];
        var batch = models.Text.Embed(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            var single = models.Text.Embed([texts[i]])[0];
            for (var k = 0; k < single.Length; k++) Assert.Equal(single[k], batch[i][k], 4);
        }
    }

    [Fact]
    public void Long_text_is_windowed_not_truncated()
    {
        var words = LongReportWords(2000);
        var full = string.Join(' ', words);
        var head = string.Join(' ', words.Take(200));
        var windows = models.Text.EmbedWindows(full);
        Assert.True(windows.Length > 5, $"expected several windows, got {windows.Length}");
        var vFull = models.Text.Embed([full])[0];
        var vHead = models.Text.Embed([head])[0];
        Assert.Equal(384, vFull.Length);
        Assert.Equal(1.0, Math.Sqrt(vFull.Sum(x => (double)x * x)), 4);
        Assert.True(VectorMath.Cosine(vFull, vHead) < 0.999, "a 2000-word text must not embed like its first 200 words");
        var mean = new float[384];
        foreach (var w in windows) for (var k = 0; k < 384; k++) mean[k] += w[k];
        VectorMath.NormalizeInPlace(mean);
        Assert.True(VectorMath.Cosine(mean, vFull) > 0.99); // the text vector is the (length-weighted) mean of its windows
    }

    [Fact]
    public void Windows_overlap_and_cover_every_token()
    {
        var ids = Enumerable.Range(1000, 600).ToList();
        var windows = models.Text.SplitIntoWindows(ids);
        Assert.All(windows, w => Assert.True(w.Length <= models.Text.WindowContentTokens));
        Assert.Equal(ids[0], windows[0][0]);
        Assert.Equal(ids[^1], windows[^1][^1]);
        var overlap = models.Text.Options.WindowOverlap;
        Assert.Equal(windows[0][^overlap..], windows[1][..overlap]);
    }

    [Fact]
    public void Concurrent_calls_give_the_same_vectors()
    {
        var text = "calcified granuloma in the right upper lobe";
        var expected = models.Text.Embed([text])[0];
        var results = new float[4][];
        Parallel.For(0, 4, i => results[i] = models.Text.Embed([text])[0]);
        foreach (var r in results) Assert.Equal(expected, r);
    }

    static string[] LongReportWords(int count)
    {
        var path = SharedData.Require("text/mtsamples/mtsamples.csv");
        var words = File.ReadLines(path).Skip(1).SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Take(count).ToArray();
        Assert.Equal(count, words.Length);
        return words;
    }
}
