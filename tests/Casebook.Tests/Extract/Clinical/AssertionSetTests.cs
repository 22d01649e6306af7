using Casebook.Eval;

namespace Casebook.Tests.Extract.Clinical;

/// <summary>
/// Quality floors on Casebook's hand-labelled sentences from ../shared/data/text (bench/Casebook.Bench/nlp): the
/// development set (used for error analysis while writing the lexicon) and the held-out set (labelled before any output
/// was seen). Issue 5's floor is negation F1 ≥ 0.975 on physician-annotated sentences; these guard against regressions.
/// </summary>
public class AssertionSetTests
{
    static string SetFile(string name) => Path.Combine(Search.DemoCorpusFixture.RepoRoot, "bench", "Casebook.Bench", "nlp", name);

    [Theory]
    [InlineData("assertion-set.tsv", 300, 0.98)]
    [InlineData("assertion-heldout.tsv", 100, 0.975)]
    public void Negation_f1_holds_on_the_hand_labelled_sets(string file, int minimumPairs, double floor)
    {
        var examples = AssertionEvaluation.Load(SetFile(file), SharedData.Require("text"));
        Assert.True(examples.Count >= minimumPairs, $"{examples.Count} pairs");
        var report = AssertionEvaluation.Evaluate(examples);
        var negation = report["negated"];
        Assert.True(negation.F1 >= floor, $"negation F1 {negation.F1:0.000} (P {negation.Precision:0.000}, R {negation.Recall:0.000}); errors: "
            + string.Join(" | ", report.Errors.Where(e => e.Feature == "negated").Select(e => $"{e.Example.Target}: {e.Example.Sentence}")));
        Assert.True(report["uncertain"].F1 >= 0.75 && report["historical"].F1 >= 0.8 && report["hypothetical"].F1 >= 0.85,
            string.Join(", ", report.Features.Select(f => $"{f.Feature} {f.F1:0.000}")));
    }
}
