using Casebook.Fuzz;
using Casebook.Tests.Search;
using Xunit;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>
/// Every input the fuzz campaign found (fuzz/regressions/, described in fuzz/STATS.md) goes through the same target
/// as the fuzzer: read in three modes, dump, decode, render. Each must end in a documented error or a result within 2 s.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string> Regressions()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(Path.Combine(DemoCorpusFixture.RepoRoot, "fuzz", "regressions")).Order())
            if (!f.EndsWith(".md")) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public void Fuzz_finding_is_handled(string name)
    {
        var input = File.ReadAllBytes(Path.Combine(DemoCorpusFixture.RepoRoot, "fuzz", "regressions", name));
        var outcome = FuzzRunner.RunWithTimeout(input, TimeSpan.FromSeconds(2));
        Assert.True(outcome == null, outcome);
    }
}
