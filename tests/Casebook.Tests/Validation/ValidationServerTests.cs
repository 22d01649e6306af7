using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Security;

namespace Casebook.Tests.Validation;

/// <summary>Validation over HTTP on a private database: role from the key, 409 on a stale base version, similar contract.</summary>
public class ValidationServerTests
{
    [Fact]
    public async Task Validators_commit_with_their_identity_stale_writes_get_409_and_researchers_403()
    {
        using var tmp = new TempDirectory();
        long v;
        using (var db = tmp.OpenDb()) v = SimilarCasesTests.ImageStudies(db, 4);
        var store = new ApiKeyStore(new ServerStore(tmp["db"]));
        var (_, validatorKey) = store.Create(Roles.Validator, "val");
        var (_, researcherKey) = store.Create(Roles.Researcher, "res");
        await using var server = CasebookServer.Create(new ServerOptions { DbDirectory = tmp["db"], KeyFile = tmp.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await server.StartAsync();
        HttpClient As(string key) => new() { BaseAddress = new Uri(server.Urls[0] + "/"), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", key) } };
        using var validator = As(validatorKey);
        using var researcher = As(researcherKey);

        object Body(long baseVersion) => new { code = "C50.919", system = "icd10cm", status = "confirmed", reason = "biopsy", base_version = baseVersion };
        var ok = await validator.PostAsJsonAsync("api/studies/B1/diagnose", Body(v));
        Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        var v2 = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["version"]!.GetValue<long>();
        var stale = await validator.PostAsJsonAsync("api/studies/B1/validate", new { finding = "mass", status = "confirmed", base_version = v });
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains($"version {v2}", await stale.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await researcher.PostAsJsonAsync("api/studies/B2/diagnose", Body(v2))).StatusCode);

        using (var db = tmp.OpenDb())
        {
            var h = db.History("B1");
            Assert.Equal(2, h.Count); // the stale write left nothing
            Assert.Equal(("validator", "biopsy"), (h[1].Role, h[1].Reason));
        }
        // Similar cases show per-case outcomes with exact small counts: clinical roles only (researchers use cohorts).
        Assert.Equal(HttpStatusCode.Forbidden, (await researcher.GetAsync("api/similar?study=B0&limit=3")).StatusCode);
        var similar = JsonNode.Parse(await validator.GetStringAsync("api/similar?study=B0&limit=3"))!;
        Assert.Equal(3, similar["results"]!.AsArray().Count);
        Assert.Equal(["results", "summary"], similar.AsObject().Select(kv => kv.Key));
    }
}
