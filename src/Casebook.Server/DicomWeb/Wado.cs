using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;
using Casebook.Ingest.Dicom;
using Microsoft.AspNetCore.Http;
using SkiaSharp;

namespace Casebook.Server.DicomWeb;

/// <summary>
/// WADO-RS (PS3.18 §10.4): the stored instances of a study, series or single instance as multipart/related
/// application/dicom (the de-identified bytes as stored, in their stored transfer syntax — no transcoding), their
/// metadata as DICOM JSON (bulk data left out), and rendered frames (PNG, or JPEG when asked) through the engine's
/// renderer with the same default windows as ingest.
/// </summary>
static class Wado
{
    public static Task Study(HttpContext ctx, DicomWebSource index, string study) => Retrieve(ctx, index, study, null, null);
    public static Task Series(HttpContext ctx, DicomWebSource index, string study, string series) => Retrieve(ctx, index, study, series, null);
    public static Task Instance(HttpContext ctx, DicomWebSource index, string study, string series, string sop) => Retrieve(ctx, index, study, series, sop);

    public static Task<IResult> StudyMetadata(HttpContext ctx, DicomWebSource index, string study) => Metadata(ctx, index, study, null, null);
    public static Task<IResult> SeriesMetadata(HttpContext ctx, DicomWebSource index, string study, string series) => Metadata(ctx, index, study, series, null);
    public static Task<IResult> InstanceMetadata(HttpContext ctx, DicomWebSource index, string study, string series, string sop) => Metadata(ctx, index, study, series, sop);

    /// <summary>The stored instances under a path (404 naming what was not found), in series and instance order.</summary>
    static async Task<List<StoredDicomInstance>> Select(DicomWebSource index, string study, string? series, string? sop, CancellationToken ct)
    {
        DicomWebResponses.Uid(study, "study");
        if (series != null) DicomWebResponses.Uid(series, "series");
        if (sop != null) DicomWebResponses.Uid(sop, "SOP instance");
        var found = (await index.InstancesAsync(ct)).Where(i => i.StudyUid == study).ToList();
        if (found.Count == 0) throw new ProblemException(404, "Not found", $"no stored study {study}");
        if (series != null && (found = found.Where(i => i.SeriesUid == series).ToList()).Count == 0)
            throw new ProblemException(404, "Not found", $"no series {series} in study {study}");
        if (sop != null && (found = found.Where(i => i.SopUid == sop).ToList()).Count == 0)
            throw new ProblemException(404, "Not found", $"no instance {sop} in series {series} of study {study}");
        return found.OrderBy(i => i.SeriesUid, StringComparer.Ordinal)
            .ThenBy(i => int.TryParse(i.Get("InstanceNumber"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue)
            .ThenBy(i => i.SopUid, StringComparer.Ordinal).ToList();
    }

    static async Task Retrieve(HttpContext ctx, DicomWebSource index, string study, string? series, string? sop)
    {
        var accept = ctx.Request.Headers.Accept.ToString();
        // PS3.18 §10.4.1: instances come as multipart/related; type="application/dicom". Wildcards and no Accept get that too.
        if (accept.Length > 0 && !accept.Contains("application/dicom", StringComparison.OrdinalIgnoreCase) && !accept.Contains("*/*")
            && !accept.Contains("multipart/related", StringComparison.OrdinalIgnoreCase))
            throw new ProblemException(406, "Not acceptable", $"instances are served as multipart/related; type=\"application/dicom\", not '{accept}'");
        var instances = await Select(index, study, series, sop, ctx.RequestAborted);
        // Which blobs are still there is known before the answer starts (none at all is a 404, not an empty body); each is
        // opened only while it is written, so a large study is never held open or in memory at once.
        var parts = new List<(StoredDicomInstance Instance, string TransferSyntax)>();
        foreach (var i in instances)
            if (await index.ExistsAsync(i, ctx.RequestAborted)) parts.Add((i, i.Get(DicomWebIndex.TransferSyntaxKey)));
        if (parts.Count == 0) throw new ProblemException(404, "Not found", "the stored instances are no longer in the blob store");
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{parts.Count} instances, {parts.Sum(p => p.Instance.Length)} bytes";
        await DicomWebResponses.WriteMultipartAsync(ctx, parts.Select(p => (new Func<CancellationToken, Task<Stream?>>(ct => index.OpenAsync(p.Instance, ct)), p.TransferSyntax)).ToList());
    }

    static async Task<IResult> Metadata(HttpContext ctx, DicomWebSource index, string study, string? series, string? sop)
    {
        DicomWebResponses.RequireJsonAccept(ctx.Request);
        var instances = await Select(index, study, series, sop, ctx.RequestAborted);
        var array = new JsonArray();
        foreach (var i in instances)
            if (await index.HeaderAsync(i, ctx.RequestAborted) is { } header) array.Add(header);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{array.Count} instances";
        return DicomWebResponses.DicomJson(array);
    }

    /// <summary>PS3.18 §10.4.1.1.3: an instance rendered (its first frame), PNG by default, JPEG when the Accept asks for it.</summary>
    public static Task<IResult> RenderedInstance(HttpContext ctx, DicomWebSource index, string study, string series, string sop) =>
        Rendered(ctx, index, study, series, sop, 1);

    public static Task<IResult> RenderedFrame(HttpContext ctx, DicomWebSource index, string study, string series, string sop, string frames)
    {
        if (!int.TryParse(frames, NumberStyles.None, CultureInfo.InvariantCulture, out var frame) || frame < 1)
            throw new ArgumentException($"frame must be one 1-based frame number, not '{frames}' (rendered frames are served one at a time)");
        return Rendered(ctx, index, study, series, sop, frame);
    }

    static async Task<IResult> Rendered(HttpContext ctx, DicomWebSource index, string study, string series, string sop, int frame)
    {
        var accept = ctx.Request.Headers.Accept.ToString();
        var jpeg = accept.Contains("image/jpeg", StringComparison.OrdinalIgnoreCase) && !accept.Contains("image/png", StringComparison.OrdinalIgnoreCase);
        if (accept.Length > 0 && !jpeg && !accept.Contains("image/png", StringComparison.OrdinalIgnoreCase) && !accept.Contains("*/*") && !accept.Contains("image/*"))
            throw new ProblemException(406, "Not acceptable", $"rendered frames are image/png or image/jpeg, not '{accept}'");
        var instance = (await Select(index, study, series, sop, ctx.RequestAborted))[0];
        var frames = int.TryParse(instance.Get("NumberOfFrames"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? Math.Max(1, n) : 1;
        if (frame > frames) throw new ProblemException(404, "Not found", $"instance {sop} has {frames} frame(s); there is no frame {frame}");
        DecodedImage image;
        var bytes = await index.ReadAllAsync(instance, ctx.RequestAborted) ?? throw new ProblemException(404, "Not found", $"instance {sop} is no longer in the blob store");
        using (var file = DicomFile.Open(bytes))
        {
            if (file.PixelData == null) throw new ProblemException(404, "Not found", $"instance {sop} has no Pixel Data (7FE0,0010) to render");
            var options = DicomSliceRendering.OptionsFor(instance.Get("Modality"), instance.Get("BodyPartExamined"));
            try { image = DicomSliceRendering.Render(file, frame - 1, options); }
            catch (PixelDecodeException e) { throw new InvalidDataException($"instance {sop} frame {frame}: {e.Message}", e); }
        }
        var png = image.ToPng();
        if (!jpeg) return Results.File(png, "image/png");
        using var bitmap = SKBitmap.Decode(png);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return Results.File(data.ToArray(), "image/jpeg");
    }
}
