using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

static class Versions
{
    /// <summary>Same shape as `casebook versions --json`.</summary>
    public static IResult List(CasebookDb db) => Results.Json(new JsonObject
    {
        ["versions"] = new JsonArray(db.Versions().Select(v => (JsonNode)new JsonObject
            { ["version"] = v.Version, ["time"] = v.Time, ["author"] = v.Author, ["message"] = v.Message }).ToArray()),
    });
}
