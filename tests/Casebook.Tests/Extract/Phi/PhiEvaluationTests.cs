using Casebook.Extract.Clinical.Phi;
using Casebook.Extract.Clinical.Phi.Evaluation;

namespace Casebook.Tests.Extract.Phi;

/// <summary>
/// The issue's floor on notes built from real text (MTSamples, PriMock57, IU X-ray) with inserted, labelled identifiers
/// whose names are outside the detector's lexicon: recall ≥ 0.99 for names, dates and ID numbers, precision ≥ 0.90.
/// A smaller, differently seeded sample than the bench suite `phi` (docs/benchmarks.md has the full run).
/// </summary>
public class PhiEvaluationTests
{
    [Fact]
    public void Recall_and_precision_meet_the_floor_on_labelled_real_notes()
    {
        var corpus = new PhiEvalCorpus(SharedData.Require("."), seed: 7, excludeDetectorLexicon: true);
        Assert.True(corpus.FirstNames.Count > 20 && corpus.LastNames.Count > 20, "too few names outside the lexicon");
        Assert.DoesNotContain(corpus.LastNames, n => PhiLexicon.LastNameSet.Contains(n.ToLowerInvariant()));
        var notes = corpus.Build(150);
        var annotations = PhiEvalScorer.ReadAnnotations(Path.Combine(Search.DemoCorpusFixture.RepoRoot, "bench", "Casebook.Bench", "phi-base-annotations.tsv"));
        var result = PhiEvalScorer.Score(notes, PhiDetector.Default, annotations);
        foreach (var category in new[] { "NAME", "DATE", "ID" })
            Assert.True(result[category].Recall >= 0.99, $"{category} recall {result[category].Recall:0.000}; misses: {string.Join("; ", result.Misses.Take(10).Select(m => m.Text))}");
        Assert.True(result.All.Precision >= 0.90, $"precision {result.All.Precision:0.000}");
        Assert.True(result.All.StrictPrecision >= 0.90, $"strict precision {result.All.StrictPrecision:0.000}");
    }
}
