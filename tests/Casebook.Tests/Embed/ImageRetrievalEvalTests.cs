using Xunit;
using Casebook.Embed;
using Casebook.Eval;

namespace Casebook.Tests.Embed;

public sealed class ImageRetrievalEvalTests
{
    [Fact]
    public void Precision_at_k_counts_same_label_neighbours()
    {
        var img = DecodedImage.Grey(1, 1, [0]);
        var queries = new[] { new ImageRetrievalEval.LabelledImage("q", "test", "1", img) };
        var gallery = new[] { new ImageRetrievalEval.LabelledImage("a", "train", "1", img), new ImageRetrievalEval.LabelledImage("b", "train", "0", img) };
        float[][] q = [[1, 0]];
        float[][] g = [[0.6f, 0.8f], [1, 0]];
        Assert.Equal(0.0, ImageRetrievalEval.PrecisionAtK(q, queries, g, gallery, 1));
        Assert.Equal(0.5, ImageRetrievalEval.PrecisionAtK(q, queries, g, gallery, 2));
    }

    [Fact]
    public void Runs_on_a_breastmnist_subset()
    {
        var result = ImageRetrievalEval.Run(SharedData.Require("images/breastmnist"),
            new ImageRetrievalEval.Settings { MaxQueries = 12, MaxGallery = 40, Onnx = new OnnxRunOptions { IntraOpThreads = 2 } });
        Assert.Equal(12, result.Queries);
        Assert.Equal(40, result.Gallery);
        foreach (var p in new[] { result.Plain, result.GreyNormalised, result.Whitened, result.QueryExpanded, result.ChanceLevel })
            Assert.InRange(p, 0, 1);
        Assert.Contains("P@10", result.ToMarkdown());
    }
}
