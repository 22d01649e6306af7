using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Casebook.Tests.Search;

namespace Casebook.Tests.Server;

/// <summary>The CLI contracts of the server verbs: `keys create` prints the key alone on its last line; `serve` runs the server.</summary>
[Collection("demo corpus")]
public class ServerCliTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    [Fact]
    public async Task Keys_create_prints_the_key_last_and_serve_answers_with_it()
    {
        var (code, stdout, stderr) = CliProcess.Run(server.Temp.Path, server.KeyFile, TimeSpan.FromMinutes(1), "keys", "create", "--role", "clinician", "--db", server.DbDir);
        Assert.True(code == 0, stderr);
        var key = stdout.TrimEnd('\n').Split('\n')[^1];
        Assert.Matches("^cbk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$", key);
        var (badCode, _, badErr) = CliProcess.Run(server.Temp.Path, server.KeyFile, TimeSpan.FromMinutes(1), "keys", "create", "--role", "king", "--db", server.DbDir);
        Assert.Equal(2, badCode);
        Assert.Contains("clinician", badErr);

        using var p = Process.Start(CliProcess.StartInfo(server.Temp.Path, server.KeyFile, "serve", "--db", server.DbDir, "--port", "0"))!;
        try
        {
            var url = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Matches(@"^http://127\.0\.0\.1:\d+$", url);
            using var c = new HttpClient { BaseAddress = new Uri(url + "/") };
            Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("health")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("api/search?q=effusion")).StatusCode);
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var search = await c.GetAsync("api/search?q=effusion&limit=1");
            Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    [Fact]
    public void Serve_refuses_plain_http_off_loopback()
    {
        var (code, _, stderr) = CliProcess.Run(server.Temp.Path, server.KeyFile, TimeSpan.FromMinutes(1), "serve", "--db", server.DbDir, "--bind", "0.0.0.0", "--port", "0");
        Assert.Equal(3, code);
        Assert.Contains("--tls-cert", stderr);
        Assert.Contains("--insecure-http", stderr);
    }
}
