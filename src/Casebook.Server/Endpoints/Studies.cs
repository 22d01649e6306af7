using System.Text.Json.Nodes;
using Casebook.Model;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>A study's record, its history, and its slices rendered for viewing.</summary>
static class Studies
{
    public static IResult Detail(string studyId, HttpContext ctx, CasebookDb db)
    {
        var study = Load(db, studyId, ctx.Request);
        return Results.Json(StudyJson(study, RequestValues.IsResearcher(ctx.User)));
    }

    /// <summary>
    /// The study as JSON. Researchers get de-identified data only: no references to original blobs (DICOM, dictation audio,
    /// PDF), and no source file names. Timelines and NLP fields appear as the engine stores them (issues 5 and 6 fill them).
    /// </summary>
    public static JsonObject StudyJson(StudyRecord s, bool researcher)
    {
        var metadata = (JsonObject)s.Metadata.DeepClone();
        if (researcher) metadata.Remove("source_files");
        var slices = s.Segments.Where(g => g.Kind == SegmentKind.ImageSlice).ToList();
        var json = new JsonObject
        {
            ["study_id"] = s.StudyId, ["patient_pseudo_id"] = s.PatientPseudoId, ["modality"] = s.Modality, ["exam_date"] = s.ExamDate,
            ["report_text"] = s.ReportText,
            ["clinical_codes"] = new JsonArray(s.ClinicalCodes.Select(c => (JsonNode)c).ToArray()),
            ["metadata"] = metadata,
            ["image_regions"] = s.ImageRegions.DeepClone(), ["timeline_events"] = s.TimelineEvents.DeepClone(),
            ["anatomical_regions"] = s.AnatomicalRegions.DeepClone(), ["pathology_findings"] = s.PathologyFindings.DeepClone(),
            ["risk_factors"] = s.RiskFactors.DeepClone(),
            ["slices"] = slices.Count,
            ["segments"] = new JsonArray(s.Segments.Select(g =>
            {
                var seg = new JsonObject
                {
                    ["segment_id"] = g.SegmentId, ["kind"] = g.Kind, ["text"] = g.Text,
                    ["section"] = g.Source.Section, ["page"] = g.Source.Page, ["frame"] = g.Source.Frame,
                    ["char_start"] = g.Source.CharStart, ["char_end"] = g.Source.CharEnd, ["time_start"] = g.Source.TimeStart, ["time_end"] = g.Source.TimeEnd,
                };
                if (g.Kind == SegmentKind.ImageSlice) seg["slice_index"] = slices.IndexOf(g);
                if (!researcher && g.Blob != null) { seg["blob"] = g.Blob.Sha256; seg["blob_mime"] = g.BlobMime; }
                return (JsonNode)seg;
            }).ToArray()),
        };
        if (!researcher)
            json["originals"] = new JsonObject
            {
                ["dicom_image"] = s.DicomImage?.Sha256, ["dicom_mime"] = s.DicomMime,
                ["dictation_audio"] = s.DictationAudio?.Sha256, ["dictation_audio_mime"] = s.DictationAudioMime,
                ["report_pdf"] = s.ReportPdf?.Sha256,
            };
        return json;
    }

    public static IResult History(string studyId, ServerStore store)
    {
        RequestValues.StudyId(studyId);
        using var c = store.Connect();
        var rows = CasebookDb.StudyRowHistory(c, studyId);
        if (rows.Count == 0) throw new ProblemException(404, "Not found", $"no study '{studyId}'");
        return Results.Json(new JsonObject { ["study_id"] = studyId, ["history"] = rows });
    }

    public static IResult Slice(string studyId, int index, HttpContext ctx, CasebookDb db, SliceRenderer renderer) =>
        SlicePng(Load(db, studyId, ctx.Request), index, ctx, renderer);

    public static IResult Thumbnail(string studyId, HttpContext ctx, CasebookDb db, SliceRenderer renderer) =>
        ThumbnailPng(Load(db, studyId, ctx.Request), ctx, renderer);

    /// <summary>Slice <paramref name="index"/> of a loaded study as PNG (one node and the cluster server share it).</summary>
    internal static IResult SlicePng(StudyRecord study, int index, HttpContext ctx, SliceRenderer renderer)
    {
        var slices = study.Segments.Where(g => g.Kind == SegmentKind.ImageSlice).ToList();
        if (index < 0 || index >= slices.Count) throw new ProblemException(404, "Not found", $"study '{study.StudyId}' has {slices.Count} slices; no slice {index}");
        var preset = RequestValues.String(ctx.Request, "preset", 32);
        return Png(ctx, renderer.RenderPng(study, slices[index], preset));
    }

    internal static IResult ThumbnailPng(StudyRecord study, HttpContext ctx, SliceRenderer renderer)
    {
        var slice = study.Segments.FirstOrDefault(g => g.Kind == SegmentKind.ImageSlice && g.Blob != null)
                    ?? throw new ProblemException(404, "Not found", $"study '{study.StudyId}' has no images");
        return Png(ctx, renderer.RenderPng(study, slice, null, SliceRenderer.ThumbnailSide));
    }

    static IResult Png(HttpContext ctx, byte[] png)
    {
        ctx.Response.Headers.CacheControl = "private, max-age=300";
        return Results.Bytes(png, "image/png");
    }

    static StudyRecord Load(CasebookDb db, string studyId, HttpRequest r) =>
        db.GetStudy(RequestValues.StudyId(studyId), RequestValues.Long(r, "as_of"))
        ?? throw new ProblemException(404, "Not found", $"no study '{studyId}'" + (r.Query.ContainsKey("as_of") ? $" at version {r.Query["as_of"]}" : ""));
}
