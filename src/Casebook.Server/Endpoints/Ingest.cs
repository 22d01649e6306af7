using Casebook.Server.Jobs;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>Ingest by upload: files (a folder's files with relative names, a zip, DICOM) go to a temporary folder and are ingested by a background job.</summary>
static class Ingest
{
    const int MaxFiles = 10_000;

    public static async Task<IResult> Upload(HttpContext ctx, IngestJobs jobs, ServerOptions o)
    {
        var r = ctx.Request;
        if (!r.HasFormContentType) throw new ArgumentException("send the files as multipart/form-data (field name 'files'; the file name may be a relative path such as reports/r1.txt)");
        var form = await RequestValues.ReadFormAsync(r);
        if (form.Files.Count == 0) throw new ArgumentException("the upload holds no files");
        if (form.Files.Count > MaxFiles) throw new ArgumentException($"the upload holds {form.Files.Count} files; the limit is {MaxFiles}");
        var message = form["message"].ToString();
        // Names are checked before anything is written: one bad name refuses the whole upload.
        var names = form.Files.Select(f => SafeRelativePath(f.FileName)).ToList();
        var dupe = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (dupe != null) throw new ArgumentException($"file '{dupe.Key}' is uploaded twice");
        var folder = Path.Combine(Path.GetTempPath(), "casebook-upload-" + Guid.NewGuid().ToString("N"));
        try
        {
            for (var i = 0; i < form.Files.Count; i++)
            {
                var target = Path.Combine(folder, names[i]);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await using var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                await form.Files[i].CopyToAsync(to, ctx.RequestAborted);
            }
        }
        catch
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
            throw;
        }
        var job = jobs.Start(CasebookAuth.Actor(ctx.User), folder, names, message.Length > 0 ? message : null);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"job {job.Id}: {names.Count} files";
        return Results.Accepted($"/api/jobs/{job.Id}", job.ToJson());
    }

    public static IResult Job(string jobId, IngestJobs jobs) =>
        jobs.Get(jobId) is { } job ? Results.Json(job.ToJson()) : throw new ProblemException(404, "Not found", $"no ingest job '{jobId}'");

    /// <summary>
    /// An uploaded file name as a path inside the upload folder: relative, '/'-separated parts, none empty, "." or "..",
    /// no drive letters, control characters or over-long names. Anything else is refused by name.
    /// </summary>
    public static string SafeRelativePath(string fileName)
    {
        var parts = fileName.Replace('\\', '/').Split('/');
        if (fileName.Length is 0 or > 1024 || fileName.StartsWith('/') || fileName.StartsWith('\\')
            || parts.Any(p => p.Length is 0 or > 255 || p is "." or ".." || p.Contains(':') || p.Any(char.IsControl)))
            throw new ArgumentException($"upload file name '{Printable(fileName)}' is not a safe relative path (no '..', no absolute paths, no empty parts)");
        return Path.Combine(parts);
    }

    static string Printable(string s) => new(s.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
