using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Casebook.Bench;
using Casebook.Server.Audit;
using Casebook.Tests.Search;

namespace Casebook.Tests.Server;

/// <summary>
/// Short load and fault checks for CI (the measured runs are the bench `server` suite): concurrent searches while an ingest
/// runs answer without a single error and lose nothing; killing the server mid-ingest loses nothing committed and it restarts clean.
/// </summary>
[Collection("demo corpus")]
public class ServerLoadTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    [Fact]
    public async Task Concurrent_searches_during_an_ingest_have_no_errors_and_nothing_is_lost()
    {
        var ingest = ServerLoad.IngestAsync(server.BaseUrl, server.Keys["admin"], "CILOAD", 12, TimeSpan.FromMinutes(5));
        var load = await ServerLoad.RunSearchesAsync(server.BaseUrl, server.Keys["clinician"], clients: 8, TimeSpan.FromSeconds(3));
        var job = await ingest;
        Assert.True(load.Errors == 0, $"{load.Errors} of {load.Requests} searches failed; first: {load.FirstError}");
        Assert.True(load.Requests >= 8);
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        Assert.Equal(12, job["result"]!["inserted"]!.GetValue<int>());
        using var c = server.As("clinician");
        for (var i = 1; i <= 12; i++)
        {
            var hits = JsonNode.Parse(await c.GetStringAsync($"api/search?q={ServerLoad.Marker("CILOAD", i)}&mode=bm25&limit=1"))!["results"]!.AsArray();
            Assert.Equal($"CILOAD-{i:0000}", hits.Single()!["study_id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Killing_the_server_mid_ingest_loses_nothing_committed_and_it_restarts_clean()
    {
        using var temp = new TempDirectory();
        DemoServer.CopyDatabase(server.DbDir, temp["db"]);
        var admin = new Casebook.Server.Security.ApiKeyStore(new Casebook.Server.ServerStore(temp["db"])).Create("admin").Key;
        var before = CountStudies(temp["db"]);

        var url = await StartServe(temp, out var first);
        try
        {
            // Small batches, so that some commit before the kill and one may be cut mid-way.
            var upload = ServerLoad.IngestAsync(new Uri(url + "/"), admin, "KILL", 40, TimeSpan.FromMinutes(5));
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (CountStudies(temp["db"]) == before && DateTime.UtcNow < deadline && !upload.IsCompleted) await Task.Delay(50);
        }
        finally
        {
            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no drain
            first.WaitForExit(10_000);
        }
        var committed = CountStudies(temp["db"]);

        var url2 = await StartServe(temp, out var second);
        try
        {
            using var c = new HttpClient { BaseAddress = new Uri(url2 + "/") };
            Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("health")).StatusCode);
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
            var stats = JsonNode.Parse(await c.GetStringAsync("api/stats"))!;
            Assert.Equal(committed, stats["studies"]!.GetValue<long>()); // what was committed is all there, after the restart
            // Every study that made it in is whole: searchable by its marker.
            var present = new CasebookDbReader(temp["db"]).StudyIds("KILL-");
            foreach (var id in present)
            {
                var i = int.Parse(id["KILL-".Length..]);
                var hits = JsonNode.Parse(await c.GetStringAsync($"api/search?q={ServerLoad.Marker("KILL", i)}&mode=bm25&limit=1"))!["results"]!.AsArray();
                Assert.Equal(id, hits.Single()!["study_id"]!.GetValue<string>());
            }
            Assert.True(new AuditLog(new Casebook.Server.ServerStore(temp["db"])).Verify().Intact);
            // And ingest works again after the restart.
            var job = await ServerLoad.IngestAsync(new Uri(url2 + "/"), admin, "AFTER", 3, TimeSpan.FromMinutes(5));
            Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            second.WaitForExit(10_000);
        }
    }

    Task<string> StartServe(TempDirectory temp, out Process p)
    {
        p = Process.Start(CliProcess.StartInfo(temp.Path, server.KeyFile, "serve", "--db", temp["db"], "--port", "0", "--ingest-batch", "5"))!;
        var proc = p;
        return Task.Run(async () => await proc.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2)) ?? throw new InvalidOperationException("serve printed no address"));
    }

    // Read-only, so polling never takes the write lock the ingest holds.
    static long CountStudies(string db)
    {
        using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(db, "casebook.db")};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM studies WHERE v_to IS NULL";
        return (long)cmd.ExecuteScalar()!;
    }

    sealed class CasebookDbReader(string dir)
    {
        public List<string> StudyIds(string prefix)
        {
            using var d = CasebookDb.Open(dir);
            return d.Studies(withSegments: false).Select(s => s.StudyId).Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        }
    }
}
