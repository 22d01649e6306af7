using Casebook.Server.Audit;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Casebook.Server.Endpoints;

/// <summary>
/// The route table: one line per endpoint, with the roles it allows (policy) and the action it is audited under.
/// Issues 5 and 6 (timelines, NLP, validation) add their routes here: validation actions under <c>/api/studies/{id}/…</c>
/// with a "validator" policy and an audited action, cohorts and similar cases beside search.
/// </summary>
public static class ApiRoutes
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/health", Health.Handle).AllowAnonymous().WithSummary("Liveness and database version (no key needed)");

        var api = app.MapGroup("/api").RequireAuthorization(Roles.Policies.AnyRole);
        api.MapPost("/token", Auth.IssueToken).WithMetadata(new AuditedAttribute("login")).WithSummary("Exchange an API key for a short-lived JWT");

        api.MapGet("/search", Search.Text).WithMetadata(new AuditedAttribute("search")).WithSummary("Search (same JSON as `casebook search --json`)");
        api.MapPost("/search/image", Search.Image).WithMetadata(new AuditedAttribute("search"), new UploadLimit(UploadLimit.Kind.ImageQuery))
            .DisableAntiforgery().WithSummary("Search by an uploaded image or DICOM file (multipart field 'image')");

        api.MapGet("/studies/{studyId}", Studies.Detail).WithMetadata(new AuditedAttribute("study.view")).WithSummary("A study: record, segments, metadata");
        api.MapGet("/studies/{studyId}/history", Studies.History).WithMetadata(new AuditedAttribute("study.history")).WithSummary("The versions in which a study changed");
        api.MapGet("/studies/{studyId}/slices/{index:int}", Studies.Slice).WithMetadata(new AuditedAttribute("study.slice")).WithSummary("A slice rendered as PNG (?preset=lung …)");
        api.MapGet("/studies/{studyId}/timeline", Timelines.Study).WithMetadata(new AuditedAttribute("study.timeline")).WithSummary("The patient's events around a study and its outcomes (same JSON as `casebook timeline --json`)");
        api.MapGet("/search/summaries", Timelines.Summaries).WithMetadata(new AuditedAttribute("search.summaries")).WithSummary("Per study (?study=A&study=B…): codes, validated, outcome summary (what the search page shows beside each hit)");
        api.MapGet("/studies/{studyId}/thumbnail", Studies.Thumbnail).WithSummary("The study's first slice as a small PNG");
        api.MapGet("/blobs/{sha256}", Blobs.Download).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("blob.download"))
            .WithSummary("An original binary (DICOM, PDF, audio); not for researchers");

        api.MapPost("/patients/lookup", Patients.Lookup).RequireAuthorization(Roles.Policies.ClinicalLookup).WithMetadata(new AuditedAttribute("patient.lookup"))
            .WithSummary("A patient's studies by MRN (pseudonymised with the key, never stored); clinicians and admins");

        api.MapPost("/studies/{studyId}/validate", ValidationEndpoints.Validate).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("study.validate")).WithSummary("Confirm or reject a finding {finding, status, reason, base_version}; 409 when stale");
        api.MapPost("/studies/{studyId}/diagnose", ValidationEndpoints.Diagnose).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("study.diagnose")).WithSummary("Set a diagnosis {code, system, status, reason, base_version}; 409 when stale");
        api.MapPost("/studies/{studyId}/regions", ValidationEndpoints.Region).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("study.region")).WithSummary("Draw a region {slice, box: \"x,y,w,h\", label, reason, base_version}; 409 when stale");
        api.MapGet("/similar", ValidationEndpoints.Similar).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("similar")).WithSummary("Similar cases with outcomes (same JSON as `casebook similar --json`)");
        api.MapPost("/cohorts/run", Cohorts.Run).RequireAuthorization(Roles.Policies.Export).WithMetadata(new AuditedAttribute("cohort.run")).WithSummary("Run a cohort definition (JSON body; researchers see counts under 11 as \"<11\")");

        api.MapGet("/versions", Versions.List).WithSummary("Versions (same JSON as `casebook versions --json`)");
        api.MapGet("/stats", Stats.Get).WithSummary("Counts (researchers see counts under 11 as \"<11\")");
        api.MapGet("/export", Export.Download).RequireAuthorization(Roles.Policies.Export).WithMetadata(new AuditedAttribute("export"))
            .WithSummary("The table as parquet, arrow or jsonl (researchers: never blobs)");

        api.MapPost("/ingest", Ingest.Upload).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("ingest"), new UploadLimit(UploadLimit.Kind.Ingest))
            .DisableAntiforgery().WithSummary("Upload files (multipart) and ingest them as a background job");
        api.MapGet("/jobs/{jobId}", Ingest.Job).RequireAuthorization(Roles.Policies.Admin).WithSummary("An ingest job's progress and result");

        api.MapGet("/audit", AuditEndpoints.Read).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("audit.read"))
            .WithSummary("Audit entries and the hash-chain check (?verify=true)");
        api.MapPost("/keys", Auth.CreateKey).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("keys.create")).WithSummary("Make an API key");
        api.MapGet("/keys", Auth.ListKeys).RequireAuthorization(Roles.Policies.Admin).WithSummary("List API keys (ids and roles; never secrets)");
    }
}

/// <summary>Raises the request body limit for an upload endpoint (every other request keeps the small default).</summary>
public sealed record UploadLimit(UploadLimit.Kind Which)
{
    public enum Kind { ImageQuery, Ingest }
}
