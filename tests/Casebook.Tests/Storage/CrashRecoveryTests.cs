using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Storage;

/// <summary>Kills a real ingest process at random moments and checks that the database is always at its last commit.</summary>
public class CrashRecoveryTests
{
    [Fact]
    public void Killing_an_ingest_mid_write_never_loses_or_corrupts_committed_data()
    {
        using var tmp = new TempDirectory();
        var corpus = Directory.CreateDirectory(tmp["corpus"]).FullName;
        const int studies = 3000; // enough that no round finishes before it is killed, even on a fast machine
        for (var i = 0; i < studies; i++)
            File.WriteAllText(Path.Combine(corpus, $"R{i:D4}.txt"), $"FINDINGS: study {i} shows finding number {i % 17} in the {(i % 2 == 0 ? "left" : "right")} lung.\n\nIMPRESSION: item {i}.");
        var db = tmp["db"];
        var rng = new Random(42);
        var killed = 0;
        for (var round = 0; round < 6; round++)
        {
            using var p = Process.Start(CliProcess.StartInfo(tmp.Path, tmp.KeyFile, "ingest", corpus, "--db", db, "--batch", "1"))!;
            p.StandardOutput.ReadToEndAsync(); p.StandardError.ReadToEndAsync();
            // Kill while commits are flowing (1–3 s in), at a different moment each round.
            if (!p.WaitForExit(TimeSpan.FromMilliseconds(1000 + rng.Next(2000)))) { p.Kill(entireProcessTree: true); p.WaitForExit(); killed++; }
            AssertAtLastCommit(tmp, db);
        }
        Assert.True(killed >= 3, $"only {killed} of 6 ingests were killed mid-write; the test did not exercise crashes");

        // Finishing the ingest afterwards brings in exactly the rest.
        var (code, _, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(5), "ingest", corpus, "--db", db, "--batch", "50");
        Assert.True(code == 0, stderr);
        using var done = CasebookDb.Open(db, new CasebookOptions { KeyFile = tmp.KeyFile });
        Assert.Equal(studies, done.CountStudies());
    }

    static void AssertAtLastCommit(TempDirectory tmp, string dir)
    {
        if (!File.Exists(Path.Combine(dir, "casebook.db"))) return; // killed before the database was created
        using (var c = new SqliteConnection($"Data Source={Path.Combine(dir, "casebook.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", cmd.ExecuteScalar());
        }
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = tmp.KeyFile });
        // Batches of one new study per commit: version v holds exactly v studies, each with its segments and vectors.
        foreach (var v in db.Versions())
            Assert.Equal(v.Version, db.CountStudies(v.Version));
        foreach (var s in db.Studies())
        {
            Assert.NotEmpty(s.Segments);
            Assert.All(s.Segments, g => Assert.NotNull(g.TextEmbedding));
        }
        SqliteConnection.ClearAllPools();
    }
}
