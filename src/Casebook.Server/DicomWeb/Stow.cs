using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Server.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Casebook.Server.DicomWeb;

/// <summary>
/// STOW-RS (PS3.18 §10.5): <c>multipart/related; type="application/dicom"</c> bodies of Part 10 instances go through the
/// engine's DICOM ingest (<see cref="CasebookDb.StoreDicomInstances"/>: de-identified, UIDs remapped, added to the study).
/// The store response (§10.5.3.2) lists each received instance: ReferencedSOPSequence for the stored ones — the received
/// SOP Instance UID in ReferencedSOPInstanceUID, the stored (remapped) study, series and SOP Instance UIDs beside it
/// and in RetrieveURL, and WarningReason B000 (coercion of data elements: the instance was de-identified) — and
/// FailedSOPSequence with a FailureReason code and the reason as text (0000,0902) for the others. The rest of the batch goes on.
/// </summary>
static class Stow
{
    const int MaxParts = 10_000;
    // PS3.4 Annex GG (status codes) as PS3.18 §10.5.3 uses them for FailureReason and WarningReason.
    const int ProcessingFailure = 0x0110, CannotUnderstand = 0xC000, DataSetMismatch = 0xA900, Coercion = 0xB000;

    sealed record Part(int Index, string File, string? SopClass, string? Sop, string? Study, string? Series, string? Problem, int Code);

    public static Task<IResult> StoreAll(HttpContext ctx, CasebookDb db, DicomWebIndex index, IngestJobs jobs) => Store(ctx, db.Options.KeyFile, index, Local(ctx, db, jobs), null);
    public static Task<IResult> StoreInStudy(HttpContext ctx, CasebookDb db, DicomWebIndex index, IngestJobs jobs, string study) =>
        Store(ctx, db.Options.KeyFile, index, Local(ctx, db, jobs), DicomWebResponses.Uid(study, "study"));

    /// <summary>One node: the engine's store, one at a time with ingest jobs, and the indexes saved when it changed something.</summary>
    static Func<IReadOnlyList<string>, IngestOptions, Task<IngestResult>> Local(HttpContext ctx, CasebookDb db, IngestJobs jobs) => (files, options) => Task.FromResult(jobs.RunExclusive(() =>
    {
        var r = db.StoreDicomInstances(files, options);
        if (r.Versions.Count > 0) db.SaveIndexes();
        return r;
    }));

    /// <summary>
    /// A STOW-RS request: reads the parts, stores the good ones with <paramref name="store"/> (one node's engine, or the
    /// cluster's ingest), and answers which received instances are served now (<paramref name="index"/>) and which failed.
    /// </summary>
    internal static async Task<IResult> Store(HttpContext ctx, string? keyFile, DicomWebSource index, Func<IReadOnlyList<string>, IngestOptions, Task<IngestResult>> store, string? targetStudy)
    {
        var boundary = Boundary(ctx.Request);
        var folder = Path.Combine(Path.GetTempPath(), "casebook-stow-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var parts = await ReadPartsAsync(ctx, boundary, folder, targetStudy);
            if (parts.Count == 0) throw new ArgumentException("the multipart body holds no parts");
            var key = PatientPseudonym.Load(keyFile);
            var good = parts.Where(p => p.Problem == null).ToList();
            IngestResult? result = null;
            if (good.Count > 0)
                result = await store(good.Select(p => p.File).ToList(), new IngestOptions { Message = $"dicomweb store by {Security.CasebookAuth.Actor(ctx.User)}" });
            // Stored = the remapped SOP Instance UID is served now (in a live study), whatever else the ingest reported.
            var served = (await index.InstancesAsync(ctx.RequestAborted)).Select(i => i.SopUid).ToHashSet(StringComparer.Ordinal);
            var baseUrl = DicomWebResponses.BaseUrl(ctx.Request);
            var referenced = new JsonArray();
            var failed = new JsonArray();
            foreach (var p in parts)
            {
                if (p.Problem == null)
                {
                    var (study, series, sop) = (DicomUidMap.Remap(key, p.Study!), DicomUidMap.Remap(key, p.Series!), DicomUidMap.Remap(key, p.Sop!));
                    if (served.Contains(sop))
                    {
                        referenced.Add(new JsonObject
                        {
                            ["00081150"] = DicomJsonModel.Attribute("UI", [p.SopClass ?? ""]),
                            ["00081155"] = DicomJsonModel.Attribute("UI", [p.Sop!]),
                            ["00081190"] = DicomJsonModel.Attribute("UR", [$"{baseUrl}/studies/{study}/series/{series}/instances/{sop}"]),
                            ["00081196"] = DicomJsonModel.Attribute("US", [Coercion.ToString()]),
                            ["0020000D"] = DicomJsonModel.Attribute("UI", [study]),
                            ["0020000E"] = DicomJsonModel.Attribute("UI", [series]),
                            ["00080018"] = DicomJsonModel.Attribute("UI", [sop]),
                        });
                        continue;
                    }
                    var reasons = result?.Errors.Where(e => e.File == p.File).Select(e => e.Reason.Replace(folder + "/", "")).ToList() ?? [];
                    failed.Add(Failed(p, ProcessingFailure, reasons.Count > 0 ? string.Join("; ", reasons)
                        : "not stored: Casebook stores image instances (with Pixel Data); this one was not kept"));
                }
                else failed.Add(Failed(p, p.Code, p.Problem));
            }
            var response = new JsonObject();
            if (targetStudy != null) response["00081190"] = DicomJsonModel.Attribute("UR", [$"{baseUrl}/studies/{DicomUidMap.Remap(key, targetStudy)}"]);
            if (failed.Count > 0) response["00081198"] = new JsonObject { ["vr"] = "SQ", ["Value"] = failed };
            if (referenced.Count > 0) response["00081199"] = new JsonObject { ["vr"] = "SQ", ["Value"] = referenced };
            ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{referenced.Count} stored, {failed.Count} failed" + (result?.Versions.Count > 0 ? $", version {result.Versions[^1]}" : "");
            // PS3.18 §10.5.3.1: 200 all stored, 202 some failed, 409 none stored.
            var status = failed.Count == 0 ? 200 : referenced.Count > 0 ? 202 : 409;
            return DicomWebResponses.DicomJson(response, status);
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    static JsonObject Failed(Part p, int code, string reason) => new()
    {
        ["00081150"] = DicomJsonModel.Attribute("UI", p.SopClass == null ? [] : [p.SopClass]),
        ["00081155"] = DicomJsonModel.Attribute("UI", p.Sop == null ? [] : [p.Sop]),
        ["00081197"] = DicomJsonModel.Attribute("US", [code.ToString()]),
        ["00000902"] = DicomJsonModel.Attribute("LO", [$"part {p.Index + 1}: {reason}"]),
    };

    /// <summary>The boundary of a multipart/related body whose parts are application/dicom; anything else is 415 naming what was sent.</summary>
    static string Boundary(HttpRequest r)
    {
        if (!MediaTypeHeaderValue.TryParse(r.ContentType, out var type) || !type.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase))
            throw new ProblemException(415, "Unsupported media type", $"STOW-RS takes multipart/related; type=\"application/dicom\", not '{r.ContentType}'");
        var partType = HeaderUtilities.RemoveQuotes(type.Parameters.FirstOrDefault(p => p.Name.Equals("type", StringComparison.OrdinalIgnoreCase))?.Value ?? default).ToString();
        if (partType.Length > 0 && !partType.Equals(DicomWebResponses.DicomType, StringComparison.OrdinalIgnoreCase))
            throw new ProblemException(415, "Unsupported media type", $"only application/dicom parts are accepted (Part 10 instances), not type=\"{partType}\"");
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).ToString();
        // RFC 2046 §5.1.1 says at most 70 characters; some senders use longer ones (Orthanc), so only absurd lengths are refused.
        if (boundary.Length is 0 or > 256) throw new ArgumentException($"the multipart/related Content-Type needs a boundary parameter (1–256 characters), not '{r.ContentType}'");
        return boundary;
    }

    /// <summary>Streams each part to its own file and reads its UIDs; a part that is not DICOM fails alone, a broken body is 400.</summary>
    static async Task<List<Part>> ReadPartsAsync(HttpContext ctx, string boundary, string folder, string? targetStudy)
    {
        var reader = new MultipartReader(boundary, ctx.Request.Body) { HeadersLengthLimit = 16 * 1024 };
        var parts = new List<Part>();
        while (true)
        {
            MultipartSection? section;
            try { section = await reader.ReadNextSectionAsync(ctx.RequestAborted); }
            catch (Exception e) when (e is IOException or InvalidDataException && e is not BadHttpRequestException)
            {
                throw new ProblemException(400, "Malformed upload", $"the multipart/related body could not be read after {parts.Count} part(s): {e.Message}");
            }
            if (section == null) break;
            if (parts.Count >= MaxParts) throw new ArgumentException($"the body holds more than {MaxParts} parts");
            var file = Path.Combine(folder, $"stow-{parts.Count + 1:D5}.dcm");
            try
            {
                await using var to = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
                await section.Body.CopyToAsync(to, ctx.RequestAborted);
            }
            catch (Exception e) when (e is IOException or InvalidDataException && e is not BadHttpRequestException)
            {
                throw new ProblemException(400, "Malformed upload", $"part {parts.Count + 1} of the multipart/related body could not be read: {e.Message}");
            }
            parts.Add(Inspect(parts.Count, file, section.ContentType, targetStudy));
        }
        return parts;
    }

    static Part Inspect(int index, string file, string? contentType, string? targetStudy)
    {
        if (contentType != null && MediaTypeHeaderValue.TryParse(contentType, out var t) && !t.MediaType.Equals(DicomWebResponses.DicomType, StringComparison.OrdinalIgnoreCase))
            return new Part(index, file, null, null, null, null, $"the part is {t.MediaType}, not application/dicom", DataSetMismatch);
        if (!DicomDiscovery.HasDicmMagic(file))
            return new Part(index, file, null, null, null, null, "not a DICOM Part 10 instance (no 'DICM' at byte 128, PS3.10 §7.1)", CannotUnderstand);
        try
        {
            using var f = DicomFile.Open(file, DicomReadOptions.HeaderOnly);
            var sop = f.Dataset.GetString(DicomTag.SOPInstanceUID)?.Trim();
            var sopClass = f.Dataset.GetString(DicomTag.SOPClassUID)?.Trim();
            var study = f.Dataset.GetString(DicomTag.StudyInstanceUID)?.Trim();
            var series = f.Dataset.GetString(DicomTag.SeriesInstanceUID)?.Trim();
            if (string.IsNullOrEmpty(sop) || string.IsNullOrEmpty(study) || string.IsNullOrEmpty(series))
                return new Part(index, file, sopClass, sop, study, series, "missing SOP Instance, Study Instance or Series Instance UID (0008,0018 / 0020,000D / 0020,000E)", DataSetMismatch);
            if (targetStudy != null && study != targetStudy)
                return new Part(index, file, sopClass, sop, study, series, $"the instance belongs to study {study}, not to {targetStudy} named in the path", DataSetMismatch);
            return new Part(index, file, sopClass, sop, study, series, null, 0);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException)
        {
            return new Part(index, file, null, null, null, null, $"not readable as DICOM: {e.Message}", CannotUnderstand);
        }
    }
}
