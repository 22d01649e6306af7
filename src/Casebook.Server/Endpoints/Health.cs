using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

static class Health
{
    /// <summary>No key: says only that the server runs and reads its database (no counts, no patient data).</summary>
    public static IResult Handle(CasebookDb db) => Results.Json(new JsonObject { ["status"] = "ok", ["version"] = db.CurrentVersion });
}
