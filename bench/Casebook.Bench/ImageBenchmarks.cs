using Casebook.Eval;

namespace Casebook.Bench;

/// <summary>Image → image retrieval on BreastMNIST: plain ResNet-18 vs the label-free improvements.</summary>
public static class ImageBenchmarks
{
    public static string Run(string shared)
    {
        var r = ImageRetrievalEval.Run(Path.Combine(shared, "images", "breastmnist"));
        return $"### BreastMNIST image retrieval ({r.Queries} test queries, {r.Gallery} train gallery, relevant = same label)\n\n" +
               r.ToMarkdown() + $"\n({r.Elapsed.TotalSeconds:0} s)\n";
    }
}
