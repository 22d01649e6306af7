using System.Diagnostics;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Search;

namespace Casebook.Tests.Cluster;

/// <summary>Issue 9: "Kill -9 a silo … during queries: queries answer again within 60 s" (the shared local cluster).</summary>
[Collection("local cluster")]
public sealed class ClusterQueryKillTests(LocalClusterFixture f)
{
    static readonly string[] Queries = ["pleural effusion", "aneurysm", "hydronephrosis or appendicitis", "fibrosis thrombus cyst", "mass in the lung"];

    sealed record Answer(int Loop, DateTime Started, DateTime Finished, string Query, string? Results, string? Error);

    [Fact]
    public async Task Killing_a_silo_while_queries_run_keeps_every_answer_right_and_answers_resume_within_60_s()
    {
        var config = ClusterConfig.Load(f.ClusterFile);
        var victim = config.Nodes.Last(n => n.Role == "silo" && LocalCluster.Alive(n.Pid));
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        var expected = Queries.ToDictionary(q => q, q => Results(SearchResultJson.Serialize(db.Search(q).Mode(SearchMode.Bm25).Execute())));
        await using var client = await ClusterClient.ConnectAsync(config);
        Assert.Contains(await client.StatusAsync(), s => s.Silo == victim.Name); // the kill moves shards

        // Two query loops run through the coordinator while the silo is killed with SIGKILL.
        var answers = new List<Answer>();
        DateTime? killedAt = null;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        async Task Loop(int id)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var q = Queries[(i + id) % Queries.Length];
                var started = DateTime.UtcNow;
                string? results = null, error = null;
                try { results = Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = SearchMode.Bm25 }, stop.Token))); }
                catch (OperationCanceledException) { break; }
                catch (Exception e) { error = e.GetType().Name + ": " + e.Message; }
                lock (answers)
                {
                    answers.Add(new Answer(id, started, DateTime.UtcNow, q, results, error));
                    // Enough once each loop answered 5 queries it started after the kill.
                    if (killedAt is { } k && Enumerable.Range(0, 2).All(l => answers.Count(a => a.Loop == l && a.Results != null && a.Started > k) >= 5)) stop.Cancel();
                }
            }
        }
        var loops = new[] { Task.Run(() => Loop(0)), Task.Run(() => Loop(1)) };
        while (true) { lock (answers) if (answers.Count(a => a.Results != null) >= 4) break; await Task.Delay(50); }
        Process.GetProcessById(victim.Pid).Kill(); // no goodbye to the membership table
        lock (answers) killedAt = DateTime.UtcNow;
        await Task.WhenAll(loops);

        var kill = killedAt!.Value;
        var log = string.Join("\n", answers.Select(a => $"loop {a.Loop} {(a.Started - kill).TotalSeconds:+0.0;-0.0} s → {(a.Finished - kill).TotalSeconds:+0.0;-0.0} s {a.Query}: {a.Error ?? "ok"}"));
        // Every answer that came back is the single-node answer (BM25 is exact through the cluster).
        foreach (var a in answers.Where(a => a.Results != null)) Assert.True(expected[a.Query] == a.Results, $"wrong answer to '{a.Query}' at {(a.Finished - kill).TotalSeconds:0.0} s after the kill\n{log}");
        // The stream of answers resumes within 60 s: no gap between consecutive answers (of either loop) over 60 s, and
        // each loop answered queries it started after the kill.
        var finished = answers.Where(a => a.Results != null).Select(a => a.Finished).Append(kill).Order().ToList();
        var gap = finished.Zip(finished.Skip(1), (x, y) => y - x).Max();
        Assert.True(gap < TimeSpan.FromSeconds(60), $"answers stopped for {gap.TotalSeconds:0.0} s\n{log}");
        Assert.True(answers.Count(a => a.Results != null && a.Started > kill) >= 10, $"too few answers after the kill\n{log}");
        Assert.True(answers.All(a => a.Error == null), $"a query failed instead of waiting for the shards to move\n{log}");

        // After recovery every study is present exactly once (live rows over all shards = one node), none on the dead silo.
        var status = await client.StatusAsync();
        Assert.Equal(db.CountStudies(), status.Sum(s => s.Studies));
        Assert.DoesNotContain(status, s => s.Silo == victim.Name);
        var all = await client.SearchAsync(new ShardSearchRequest { Text = "right lung", Mode = SearchMode.Bm25, Limit = 1000 });
        Assert.Equal(db.Search("right lung").Mode(SearchMode.Bm25).Limit(1000).Execute().Results.Select(h => h.StudyId).Order(), all.Results.Select(h => h.StudyId).Order());

        // A replacement silo joins so the cluster is whole again for the other tests.
        LocalCluster.StartSilo(config, f.ClusterFile, victim.Name, ("dotnet", ["exec", CliProcess.DllPath]));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!LocalCluster.Status(ClusterConfig.Load(f.ClusterFile)).All(n => n.Healthy))
        {
            Assert.True(DateTime.UtcNow < deadline, "the replacement silo did not come up in 60 s");
            await Task.Delay(500);
        }
    }

    static string Results(string json) => JsonNode.Parse(json)!["results"]!.ToJsonString();
}
