using Casebook.Fuzz;
using Casebook.Tests.Search;
using Xunit;
using Xunit.Abstractions;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>
/// The CI smoke of the fuzz campaign (fuzz/README.md): replay the minimised corpus, then a bounded run of the
/// in-process DICOM mutator with a fixed seed. No exception other than DicomParseException/PixelDecodeException,
/// no input over 2 s, no input allocating over the bound. CASEBOOK_FUZZ_SMOKE_SECONDS overrides the 20 s.
/// </summary>
public class FuzzSmokeTests(ITestOutputHelper output)
{
    static string FuzzDir => Path.Combine(DemoCorpusFixture.RepoRoot, "fuzz");

    static List<byte[]> Corpus() =>
        Directory.EnumerateFiles(Path.Combine(FuzzDir, "corpus")).Order().Select(File.ReadAllBytes).ToList();

    [Fact]
    public void Minimised_corpus_replays_without_findings()
    {
        var files = Directory.EnumerateFiles(Path.Combine(FuzzDir, "corpus")).Order().ToList();
        Assert.NotEmpty(files);
        var failures = files.Select(f => (f, outcome: FuzzRunner.RunWithTimeout(File.ReadAllBytes(f), TimeSpan.FromSeconds(2))))
                            .Where(r => r.outcome != null).Select(r => $"{Path.GetFileName(r.f)}: {r.outcome}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Seeded_mutations_find_nothing()
    {
        var seconds = double.TryParse(Environment.GetEnvironmentVariable("CASEBOOK_FUZZ_SMOKE_SECONDS"), out var s) ? s : 20;
        var corpus = Corpus();
        var stats = FuzzRunner.Mutate(corpus, seed: 20261125, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(2), outDir: null, log: null);
        output.WriteLine($"{stats.Execs} mutated inputs in {stats.Elapsed.TotalSeconds:0.0} s ({stats.Execs / stats.Elapsed.TotalSeconds:0} /s), {stats.Findings} findings");
        Assert.True(stats.Execs > 0);
        Assert.True(stats.Findings == 0, string.Join("\n\n", stats.Messages));
    }
}
