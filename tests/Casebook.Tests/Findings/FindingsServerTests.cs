using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Security;
using Casebook.Tests.Validation;
using Casebook.Validation;

namespace Casebook.Tests.Findings;

/// <summary>Findings over HTTP: admins train and suggest (the caller is the author, the role "model"); clinical roles list models.</summary>
public class FindingsServerTests
{
    [Fact]
    public async Task Admins_train_and_suggest_over_http_and_clinical_roles_list_the_models()
    {
        using var tmp = new TempDirectory();
        using (var db = tmp.OpenDb())
        {
            SimilarCasesTests.ImageStudies(db, 12);
            // test_0000..0009: malignant are 0, 6, 7.
            var val = new Attribution("val", "validator");
            for (var i = 0; i < 10; i++)
                db.SetDiagnosis($"B{i}", i is 0 or 6 or 7 ? "C50.919" : "D24.9", "icd10cm", "confirmed", val, db.CurrentVersion);
        }
        var store = new ApiKeyStore(new ServerStore(tmp["db"]));
        var (adminId, adminKey) = store.Create(Roles.Admin, "adm");
        var (_, validatorKey) = store.Create(Roles.Validator, "val");
        var (_, researcherKey) = store.Create(Roles.Researcher, "res");
        await using var server = CasebookServer.Create(new ServerOptions { DbDirectory = tmp["db"], KeyFile = tmp.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await server.StartAsync();
        HttpClient As(string key) => new() { BaseAddress = new Uri(server.Urls[0] + "/"), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", key) } };
        using var admin = As(adminKey);
        using var validator = As(validatorKey);
        using var researcher = As(researcherKey);

        Assert.Equal(HttpStatusCode.Forbidden, (await validator.PostAsJsonAsync("api/findings/train", new { min_examples = 2 })).StatusCode);
        var bad = await admin.PostAsJsonAsync("api/findings/train", new { trainer = "svm" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var trained = await admin.PostAsJsonAsync("api/findings/train", new { min_examples = 2, labels = new[] { "ICD10:C50.919" } });
        Assert.True(trained.IsSuccessStatusCode, await trained.Content.ReadAsStringAsync());
        var label = JsonNode.Parse(await trained.Content.ReadAsStringAsync())!["labels"]!.AsArray().Single()!;
        Assert.Equal((3, 7), (label["positives"]!.GetValue<int>(), label["negatives"]!.GetValue<int>()));
        var modelId = label["model_id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.Forbidden, (await researcher.GetAsync("api/findings/models")).StatusCode);
        var models = JsonNode.Parse(await validator.GetStringAsync("api/findings/models"))!["models"]!.AsArray();
        Assert.Equal(modelId, models.Single()!["model_id"]!.GetValue<string>());

        var suggested = await admin.PostAsJsonAsync("api/findings/suggest", new { min_probability = 0.0 });
        Assert.True(suggested.IsSuccessStatusCode, await suggested.Content.ReadAsStringAsync());
        var result = JsonNode.Parse(await suggested.Content.ReadAsStringAsync())!;
        Assert.Equal(["B10", "B11"], result["suggestions"]!.AsArray().Select(s => s!["study_id"]!.GetValue<string>()).Order());

        using var check = tmp.OpenDb();
        var last = check.History("B10")[^1];
        Assert.Equal(("model", "suggest_findings"), (last.Role, last.Action));
        Assert.Equal($"key:{adminId}", last.Author); // the caller, from its key
    }
}
