using System.Net;
using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Audit;
using Casebook.Tests.Search;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Server;

/// <summary>The audit log: what is recorded, that it is append-only, and that tampering is found and named.</summary>
[Collection("demo corpus")]
public class AuditTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    [Fact]
    public async Task Searches_views_downloads_and_refusals_are_recorded_with_who_role_what_where_and_outcome()
    {
        var after = LastSeq();
        await server.As("clinician").GetAsync("api/search?q=audit-probe-term&limit=2");
        await server.As("validator").GetAsync("api/studies/DEMO-CR-0002");
        var blob = demo.Db.GetStudy("DEMO-CR-0002")!.Segments.First(g => g.Blob != null).Blob!.Sha256;
        await server.As("clinician").GetAsync($"api/blobs/{blob}");
        await server.As("researcher").GetAsync($"api/blobs/{blob}");
        await server.Client().GetAsync("api/studies/DEMO-CR-0002");
        await server.As("researcher").GetAsync("api/export?format=jsonl");
        var entries = new AuditLog(new ServerStore(server.DbDir)).Read(after);
        AuditEntry Find(string action, string role, string outcome) =>
            entries.FirstOrDefault(e => e.Action == action && e.Role == role && e.Outcome == outcome)
            ?? throw new Xunit.Sdk.XunitException($"no {action}/{role}/{outcome} entry in: {string.Join("; ", entries.Select(e => $"{e.Action}/{e.Role}/{e.Outcome}"))}");
        var search = Find("search", "clinician", "success");
        Assert.Equal($"key:{server.KeyIds["clinician"]}", search.Actor);
        Assert.Contains("q=audit-probe-term", search.Target);
        Assert.Equal("127.0.0.1", search.Remote);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT", search.Time);
        Assert.Matches(@"^\d+ studies$", search.Detail);
        Assert.Contains("DEMO-CR-0002", Find("study.view", "validator", "success").Target);
        Assert.Contains(blob, Find("blob.download", "clinician", "success").Target);
        Find("blob.download", "researcher", "forbidden");
        Find("study.view", "-", "unauthenticated");
        Assert.Contains("rows as jsonl", Find("export", "researcher", "success").Detail);
    }

    [Fact]
    public async Task The_admin_endpoint_and_the_cli_read_the_same_intact_chain()
    {
        var api = JsonNode.Parse(await server.As("admin").GetStringAsync("api/audit?verify=true&limit=100000"))!;
        Assert.True(api["verification"]!["intact"]!.GetValue<bool>());
        var (code, stdout, stderr) = CliProcess.Run(server.Temp.Path, server.KeyFile, TimeSpan.FromMinutes(1), "audit", "--verify", "--json", "--db", server.DbDir);
        Assert.True(code == 0, stderr);
        var cli = JsonNode.Parse(stdout)!;
        Assert.True(cli["verification"]!["intact"]!.GetValue<bool>());
        var apiEntries = api["entries"]!.AsArray();
        // The API call itself is audited after it answers, so the CLI sees at least as many entries; the shared prefix is identical.
        Assert.Equal(apiEntries.ToJsonString(), new JsonArray(cli["entries"]!.AsArray().Take(apiEntries.Count).Select(e => e!.DeepClone()).ToArray()).ToJsonString());
    }

    [Fact]
    public void Tampering_with_a_row_is_detected_and_the_first_bad_entry_named()
    {
        using var temp = new TempDirectory();
        using (temp.OpenDb()) { }
        var store = new ServerStore(temp["db"]);
        var log = new AuditLog(store);
        for (var i = 1; i <= 6; i++) log.Append($"key:k{i}", "clinician", "search", $"/api/search?q=t{i}", "127.0.0.1", "success");
        Assert.True(log.Verify().Intact);

        // Through SQLite the log is append-only.
        using (var c = store.Connect())
        {
            var update = c.CreateCommand();
            update.CommandText = "UPDATE audit SET outcome = 'forbidden' WHERE seq = 3";
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => update.ExecuteNonQuery()).Message);
            var delete = c.CreateCommand();
            delete.CommandText = "DELETE FROM audit WHERE seq = 3";
            Assert.Throws<SqliteException>(() => delete.ExecuteNonQuery());
        }

        // Someone with the file drops the guard and rewrites entry 4's target: the chain names entry 4.
        Exec(store, "DROP TRIGGER audit_no_update; UPDATE audit SET target = '/api/search?q=innocent' WHERE seq = 4;");
        var check = log.Verify();
        Assert.False(check.Intact);
        Assert.Equal(4, check.FirstBadSeq);
        Assert.Contains("changed", check.Reason);

        var (code, stdout, _) = CliProcess.Run(temp.Path, temp.KeyFile, TimeSpan.FromMinutes(1), "audit", "--verify", "--json", "--db", temp["db"]);
        Assert.Equal(1, code);
        Assert.Equal(4, JsonNode.Parse(stdout)!["verification"]!["first_bad_seq"]!.GetValue<long>());
    }

    [Fact]
    public void Deleting_or_rehashing_a_row_breaks_the_link_to_the_next()
    {
        using var temp = new TempDirectory();
        using (temp.OpenDb()) { }
        var store = new ServerStore(temp["db"]);
        var log = new AuditLog(store);
        for (var i = 1; i <= 5; i++) log.Append("key:k", "admin", "export", "/api/export", "local", "success");
        Exec(store, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 2;");
        var check = log.Verify();
        Assert.Equal(3, check.FirstBadSeq);
        Assert.Contains("missing", check.Reason);

        using var temp2 = new TempDirectory();
        using (temp2.OpenDb()) { }
        var store2 = new ServerStore(temp2["db"]);
        var log2 = new AuditLog(store2);
        for (var i = 1; i <= 5; i++) log2.Append("key:k", "admin", "export", "/api/export", "local", "success");
        // A forger who changes entry 2 and recomputes its hash correctly still breaks entry 3's link to it.
        var e2 = log2.Read(1, 1)[0];
        var rehashed = AuditLog.HashOf(e2.Seq, e2.Time, e2.Actor, e2.Role, e2.Action, e2.Target, e2.Remote, "forbidden", e2.Detail, e2.PrevHash);
        Exec(store2, $"DROP TRIGGER audit_no_update; UPDATE audit SET outcome = 'forbidden', hash = '{rehashed}' WHERE seq = 2;");
        var check2 = log2.Verify();
        Assert.Equal(3, check2.FirstBadSeq);
        Assert.Contains("does not link", check2.Reason);
    }

    static void Exec(ServerStore store, string sql)
    {
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    long LastSeq() => new AuditLog(new ServerStore(server.DbDir)).Read().LastOrDefault()?.Seq ?? 0;
}
