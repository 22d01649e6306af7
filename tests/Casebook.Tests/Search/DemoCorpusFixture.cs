namespace Casebook.Tests.Search;

/// <summary>
/// Builds the demo database once per test run by running the real CLI (`casebook demo`) in a scratch folder:
/// 12 synthetic studies with reports and drawn images, embedded with the real MiniLM and ResNet-18 models.
/// </summary>
public sealed class DemoCorpusFixture : IDisposable
{
    public TempDirectory Temp { get; } = new();
    public string DbDir => Temp["casebook-data"];
    public string CorpusDir => Temp["corpus"];
    public string DemoStdout { get; }
    public CasebookDb Db { get; }

    public DemoCorpusFixture()
    {
        var demo = Path.Combine(RepoRoot, "demo");
        var (code, stdout, stderr) = CliProcess.Run(Temp.Path, Temp.KeyFile, TimeSpan.FromMinutes(5), "demo", "--corpus", demo, "--work", CorpusDir, "--db", DbDir);
        if (code != 0) throw new InvalidOperationException($"casebook demo failed ({code}): {stderr}");
        DemoStdout = stdout;
        Db = CasebookDb.Open(DbDir, new CasebookOptions { KeyFile = Temp.KeyFile, Author = "test" });
    }

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Casebook.sln"))) return dir.FullName;
            throw new InvalidOperationException("repository root (Casebook.sln) not found above the test binaries");
        }
    }

    public void Dispose() { Db.Dispose(); Temp.Dispose(); }
}

[CollectionDefinition("demo corpus")]
public sealed class DemoCorpusCollection : ICollectionFixture<DemoCorpusFixture>;
