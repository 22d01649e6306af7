using Casebook.Server.Audit;
using Casebook.Server.DicomWeb;
using Casebook.Server.Endpoints;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Cluster;

/// <summary>
/// The route table of `serve --cluster`: every route of <see cref="ApiRoutes"/>, with the same roles (policies) and audit
/// actions. Routes the cluster answers go to <see cref="ClusterEndpoints"/> (or the single-node handler where it needs no
/// database: token, keys, audit, ingest jobs); the others answer 501 problem details that name the endpoint and the reason.
/// A test checks that both tables list the same routes.
/// </summary>
public static class ClusterRoutes
{

    public static void Map(WebApplication app)
    {
        app.MapGet("/health", ClusterEndpoints.Health).AllowAnonymous().WithSummary("Liveness and the log's last sequence (no key needed)");

        var api = app.MapGroup("/api").RequireAuthorization(Roles.Policies.AnyRole);
        api.MapPost("/token", Auth.IssueToken).WithMetadata(new AuditedAttribute("login")).WithSummary("Exchange an API key for a short-lived JWT");

        api.MapGet("/search", ClusterEndpoints.Search).WithMetadata(new AuditedAttribute("search")).WithSummary("Search through the cluster (same JSON as `casebook search --json`)");
        api.MapPost("/search/image", ClusterEndpoints.Image).WithMetadata(new AuditedAttribute("search"), new UploadLimit(UploadLimit.Kind.ImageQuery)).DisableAntiforgery();

        api.MapGet("/studies/{studyId}", ClusterEndpoints.Detail).WithMetadata(new AuditedAttribute("study.view")).WithSummary("A study from its shard");
        api.MapGet("/studies/{studyId}/history", ClusterEndpoints.History).WithMetadata(new AuditedAttribute("study.history")).WithSummary("The versions (of its shard) in which a study changed");
        api.MapGet("/studies/{studyId}/slices/{index:int}", ClusterEndpoints.Slice).WithMetadata(new AuditedAttribute("study.slice"));
        api.MapGet("/studies/{studyId}/timeline", ClusterEndpoints.Timeline).WithMetadata(new AuditedAttribute("study.timeline")).WithSummary("A study's timeline and outcomes from its shard");
        api.MapGet("/search/summaries", ClusterEndpoints.Summaries).WithMetadata(new AuditedAttribute("search.summaries")).WithSummary("Per study: codes, validated, outcome summary");
        api.MapGet("/studies/{studyId}/thumbnail", ClusterEndpoints.Thumbnail);
        api.MapGet("/blobs/{sha256}", ClusterEndpoints.Blob).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("blob.download"))
            .WithSummary("An original binary from the object store; not for researchers");

        api.MapPost("/patients/lookup", ClusterEndpoints.PatientLookup).RequireAuthorization(Roles.Policies.ClinicalLookup).WithMetadata(new AuditedAttribute("patient.lookup"))
            .WithSummary("A patient's studies by MRN, from the patient's shard; clinicians and admins");

        api.MapPost("/studies/{studyId}/validate", ClusterEndpoints.Validate).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("study.validate")).WithSummary("Confirm or reject a finding, through the log; 409 when stale");
        api.MapPost("/studies/{studyId}/diagnose", ClusterEndpoints.Diagnose).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("study.diagnose")).WithSummary("Set a diagnosis, through the log; 409 when stale");
        api.MapPost("/studies/{studyId}/regions", ClusterEndpoints.Region).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("study.region")).WithSummary("Draw a region, through the log; 409 when stale");
        api.MapGet("/similar", ClusterEndpoints.Similar).RequireAuthorization(Roles.Policies.Validation).WithMetadata(new AuditedAttribute("similar")).WithSummary("Similar cases with outcomes (same JSON as `casebook similar --json`)");
        api.MapGet("/findings/models", ClusterFindingsEndpoints.Models).RequireAuthorization(Roles.Policies.Validation).WithSummary("The cluster's finding classifiers (same JSON as `casebook findings models --json`)");
        api.MapPost("/findings/train", ClusterFindingsEndpoints.Train).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("findings.train")).WithSummary("Train finding classifiers on the coordinator from every shard's rulings");
        api.MapPost("/findings/suggest", ClusterFindingsEndpoints.Suggest).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("findings.suggest")).WithSummary("AI-suggested findings through the log, applied by the owning shards");
        api.MapPost("/cohorts/run", ClusterCohortEndpoints.Run).RequireAuthorization(Roles.Policies.Export).WithMetadata(new AuditedAttribute("cohort.run")).WithSummary("Run a cohort definition over the shards (same JSON as one node; researchers see counts under 11 as \"<11\")");

        api.MapGet("/versions", ClusterEndpoints.Versions).WithSummary("Every shard's versions, each with its shard (`casebook versions --cluster F --json`)");
        api.MapGet("/stats", ClusterEndpoints.Stats).WithSummary("Counts summed over the shards (researchers see counts under 11 as \"<11\")");
        api.MapGet("/export", ClusterHistoryEndpoints.Download).RequireAuthorization(Roles.Policies.Export).WithMetadata(new AuditedAttribute("export"));

        api.MapPost("/ingest", Endpoints.Ingest.Upload).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("ingest"), new UploadLimit(UploadLimit.Kind.Ingest))
            .DisableAntiforgery().WithSummary("Upload files (multipart) and ingest them into the cluster log as a background job");
        api.MapGet("/jobs/{jobId}", Endpoints.Ingest.Job).RequireAuthorization(Roles.Policies.Admin).WithSummary("An ingest job's progress and result");

        api.MapGet("/audit", AuditEndpoints.Read).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("audit.read"));
        api.MapPost("/keys", Auth.CreateKey).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("keys.create"));
        api.MapGet("/keys", Auth.ListKeys).RequireAuthorization(Roles.Policies.Admin);

        // DICOMweb (ClusterDicomWeb.cs): the single node's STOW-RS, QIDO-RS and WADO-RS handlers over the shards' instance tables and
        // the object store; same roles and audit actions as one node.
        var dicomweb = app.MapGroup("/dicomweb").RequireAuthorization(Roles.Policies.AnyRole);
        dicomweb.MapPost("/studies", ClusterDicomWeb.StoreAll).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("dicomweb.store"), new UploadLimit(UploadLimit.Kind.Ingest)).DisableAntiforgery();
        dicomweb.MapPost("/studies/{study}", ClusterDicomWeb.StoreInStudy).RequireAuthorization(Roles.Policies.Admin).WithMetadata(new AuditedAttribute("dicomweb.store"), new UploadLimit(UploadLimit.Kind.Ingest)).DisableAntiforgery();
        dicomweb.MapGet("/studies", Qido.Studies).WithMetadata(new AuditedAttribute("dicomweb.search"));
        dicomweb.MapGet("/series", Qido.Series).WithMetadata(new AuditedAttribute("dicomweb.search"));
        dicomweb.MapGet("/instances", Qido.Instances).WithMetadata(new AuditedAttribute("dicomweb.search"));
        dicomweb.MapGet("/studies/{study}/series", Qido.StudySeries).WithMetadata(new AuditedAttribute("dicomweb.search"));
        dicomweb.MapGet("/studies/{study}/instances", Qido.StudyInstances).WithMetadata(new AuditedAttribute("dicomweb.search"));
        dicomweb.MapGet("/studies/{study}/series/{series}/instances", Qido.SeriesInstances).WithMetadata(new AuditedAttribute("dicomweb.search"));
        dicomweb.MapGet("/studies/{study}", Wado.Study).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("dicomweb.retrieve"));
        dicomweb.MapGet("/studies/{study}/series/{series}", Wado.Series).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("dicomweb.retrieve"));
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}", Wado.Instance).RequireAuthorization(Roles.Policies.Originals).WithMetadata(new AuditedAttribute("dicomweb.retrieve"));
        dicomweb.MapGet("/studies/{study}/metadata", Wado.StudyMetadata).WithMetadata(new AuditedAttribute("dicomweb.metadata"));
        dicomweb.MapGet("/studies/{study}/series/{series}/metadata", Wado.SeriesMetadata).WithMetadata(new AuditedAttribute("dicomweb.metadata"));
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}/metadata", Wado.InstanceMetadata).WithMetadata(new AuditedAttribute("dicomweb.metadata"));
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}/rendered", Wado.RenderedInstance).WithMetadata(new AuditedAttribute("dicomweb.rendered"));
        dicomweb.MapGet("/studies/{study}/series/{series}/instances/{sop}/frames/{frames}/rendered", Wado.RenderedFrame).WithMetadata(new AuditedAttribute("dicomweb.rendered"));
    }
}
