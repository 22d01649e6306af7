using Casebook.Server.Audit;
using Casebook.Server.DicomWeb;
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
        api.MapGet("/findings/models", FindingsEndpoints.Models).RequireAuthorization(Roles.Policies.Validation).WithSummary("Finding classifiers (same JSON as `casebook findings models --json`)");
        api.MapPost("/findings/train", FindingsEndpoints.Train).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("findings.train")).WithSummary("Train finding classifiers from clinicians' rulings {min_examples, trainer, labels}");
        api.MapPost("/findings/suggest", FindingsEndpoints.Suggest).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("findings.suggest")).WithSummary("Write AI-suggested findings {study, min_probability} (never validated)");
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

        // DICOMweb (docs/dicomweb.md): everything served is the stored, de-identified data. STOW-RS is ingest (admin);
        // QIDO-RS, metadata and rendered frames are for any role; instance bytes are not for researchers (as blobs).
        var dicomweb = app.MapGroup("/dicomweb").RequireAuthorization(Roles.Policies.AnyRole);
        dicomweb.MapPost("/studies", Stow.StoreAll).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("dicomweb.store"), new UploadLimit(UploadLimit.Kind.Ingest)).DisableAntiforgery().WithSummary("STOW-RS: store instances (multipart/related; type=\"application/dicom\"), de-identified and UID-remapped");
        dicomweb.MapPost("/studies/{study}", Stow.StoreInStudy).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("dicomweb.store"), new UploadLimit(UploadLimit.Kind.Ingest)).DisableAntiforgery().WithSummary("STOW-RS: store instances of one (received) study");
        dicomweb.MapGet("/studies", Qido.Studies).WithMetadata(new AuditedAttribute("dicomweb.search")).WithSummary("QIDO-RS: search studies (stored, pseudonymised values)");
        dicomweb.MapGet("/series", Qido.Series).WithMetadata(new AuditedAttribute("dicomweb.search")).WithSummary("QIDO-RS: search series");
        dicomweb.MapGet("/instances", Qido.Instances).WithMetadata(new AuditedAttribute("dicomweb.search")).WithSummary("QIDO-RS: search instances");
        dicomweb.MapGet("/studies/{study}/series", Qido.StudySeries).WithMetadata(new AuditedAttribute("dicomweb.search")).WithSummary("QIDO-RS: a study's series");
        dicomweb.MapGet("/studies/{study}/instances", Qido.StudyInstances).WithMetadata(new AuditedAttribute("dicomweb.search")).WithSummary("QIDO-RS: a study's instances");
        dicomweb.MapGet("/studies/{study}/series/{series}/instances", Qido.SeriesInstances).WithMetadata(new AuditedAttribute("dicomweb.search")).WithSummary("QIDO-RS: a series' instances");
        dicomweb.MapGet("/studies/{study}", Wado.Study).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("dicomweb.retrieve")).WithSummary("WADO-RS: a study's stored instances (multipart/related application/dicom)");
        dicomweb.MapGet("/studies/{study}/series/{series}", Wado.Series).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("dicomweb.retrieve")).WithSummary("WADO-RS: a series' stored instances");
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}", Wado.Instance).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("dicomweb.retrieve")).WithSummary("WADO-RS: one stored instance");
        dicomweb.MapGet("/studies/{study}/metadata", Wado.StudyMetadata).WithMetadata(new AuditedAttribute("dicomweb.metadata")).WithSummary("WADO-RS: a study's metadata (DICOM JSON, no bulk data)");
        dicomweb.MapGet("/studies/{study}/series/{series}/metadata", Wado.SeriesMetadata).WithMetadata(new AuditedAttribute("dicomweb.metadata")).WithSummary("WADO-RS: a series' metadata");
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}/metadata", Wado.InstanceMetadata).WithMetadata(new AuditedAttribute("dicomweb.metadata")).WithSummary("WADO-RS: an instance's metadata");
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}/rendered", Wado.RenderedInstance).WithMetadata(new AuditedAttribute("dicomweb.rendered")).WithSummary("WADO-RS: an instance's first frame rendered (PNG, or JPEG by Accept)");
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}/frames/{frames}/rendered", Wado.RenderedFrame).WithMetadata(new AuditedAttribute("dicomweb.rendered")).WithSummary("WADO-RS: one frame rendered (1-based)");
    }
}

/// <summary>Raises the request body limit for an upload endpoint (every other request keeps the small default).</summary>
public sealed record UploadLimit(UploadLimit.Kind Which)
{
    public enum Kind { ImageQuery, Ingest }
}
