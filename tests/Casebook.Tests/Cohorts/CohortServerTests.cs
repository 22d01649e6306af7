using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Cohorts;
using Casebook.Tests.Search;
using Casebook.Tests.Server;

namespace Casebook.Tests.Cohorts;

/// <summary>POST /api/cohorts/run on the shared demo server: roles, small-count suppression, errors naming the field.</summary>
[Collection("demo corpus")]
public class CohortServerTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Researchers_get_suppressed_counts_clinicians_are_refused_and_bad_definitions_name_the_field()
    {
        const string everyone = """{"name":"all-dated","criteria":{"exam_date":{"from":"1900-01-01"}}}""";
        using var db = CasebookDb.Open(server.DbDir, new CasebookOptions { KeyFile = server.KeyFile });
        var expected = db.RunCohort(CohortDefinition.Parse(everyone));
        var oneStudy = expected.Studies[0];
        // One exam day: a handful of patients at most, so the researcher's count must be suppressed.
        var day = db.GetStudy(oneStudy.StudyId, withSegments: false)!.ExamDate;
        var few = "{\"criteria\":{\"exam_date\":{\"from\":\"" + day + "\",\"to\":\"" + day + "\"}}}";
        var fewExpected = db.RunCohort(CohortDefinition.Parse(few));

        var admin = await server.As("admin").PostAsync("api/cohorts/run", Body(everyone));
        var adminJson = JsonNode.Parse(await admin.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(expected.Patients.Count, (int)adminJson["patients"]!["count"]!);
        Assert.Equal("all-dated", (string?)adminJson["name"]);

        var researcher = JsonNode.Parse(await (await server.As("researcher").PostAsync("api/cohorts/run", Body(few))).Content.ReadAsStringAsync())!;
        Assert.InRange(fewExpected.Patients.Count, 1, 10);
        Assert.Equal("<11", (string?)researcher["patients"]!["count"]);
        Assert.Null(researcher["patients"]!["ids"]);
        Assert.Null(researcher["studies"]!["ids"]);

        Assert.Equal(HttpStatusCode.Forbidden, (await server.As("clinician").PostAsync("api/cohorts/run", Body(everyone))).StatusCode);
        var bad = await server.As("researcher").PostAsync("api/cohorts/run", Body("""{"criteria":{"lab":{"code":"4548-4","comparator":"=>","value":6.5,"unit":"%"}}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("criteria.lab.comparator", await bad.Content.ReadAsStringAsync());
    }
}
