using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Casebook.Extract.Dicom;
using Casebook.Server;
using Casebook.Server.Security;

namespace Casebook.Bench;

/// <summary>
/// Part of the `server` suite: the STOW-RS ingest rate. The image instances of shared/data/dicom/pydicom (every file that
/// parses, has Pixel Data and the three UIDs) are POSTed to <c>/dicomweb/studies</c> in requests of 10 instances (Orthanc's
/// default batch), into a fresh database per run, after a warm-up store that loads the models. Each timed run covers the
/// whole path: multipart parsing, de-identification, UID remapping, slicing, rendering and embedding the budgeted frames,
/// the commit and the store response. Median of the runs.
/// </summary>
public static class StowBenchmarks
{
    public static string Run(string shared, string work, int runs = 3)
    {
        var files = Directory.EnumerateFiles(Path.Combine(shared, "dicom", "pydicom"), "*.dcm").Order(StringComparer.Ordinal).Where(IsStorableImage).ToList();
        var bytes = files.Sum(f => new FileInfo(f).Length);
        var warmUp = files[0];
        var rates = new List<(double Seconds, int Stored, int Failed)>();
        var engine = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var dir = Path.Combine(work, $"stow-{run}");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            var db = Path.Combine(dir, "db");
            CasebookDb.Open(db).Dispose();
            var admin = new ApiKeyStore(new ServerStore(db)).Create(Roles.Admin, "bench").Key;
            var server = CasebookServer.Create(new ServerOptions { DbDirectory = db, KeyFile = Path.Combine(dir, "patient.key"), Port = 0, RequestsPerWindow = int.MaxValue });
            server.StartAsync().GetAwaiter().GetResult();
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri(server.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(20) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                Store(client, [warmUp]); // loads the image and text models; not timed (and stored again, unchanged, below)
                var clock = Stopwatch.StartNew();
                int stored = 0, failed = 0;
                foreach (var batch in files.Chunk(10))
                {
                    var (s, f) = Store(client, batch);
                    stored += s; failed += f;
                }
                rates.Add((clock.Elapsed.TotalSeconds, stored, failed));
            }
            finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }

            // Same-run peer: the engine's own ingest of the same files in one call (what `casebook ingest FILES` does), no HTTP.
            var direct = Path.Combine(dir, "engine-db");
            using (var edb = CasebookDb.Open(direct, new CasebookOptions { KeyFile = Path.Combine(dir, "patient.key") }))
            {
                edb.Ingest([warmUp]);
                var t = Stopwatch.StartNew();
                edb.Ingest(files);
                edb.SaveIndexes();
                engine.Add(t.Elapsed.TotalSeconds);
            }
        }
        var sorted = rates.OrderBy(r => r.Seconds).ToList();
        var median = sorted[sorted.Count / 2];
        var sb = new StringBuilder();
        sb.AppendLine("### STOW-RS ingest rate (`server` suite, `--stow`)\n");
        sb.AppendLine($"{files.Count} image instances from shared/data/dicom/pydicom ({bytes / 1e6:0.00} MB; every transfer syntax family the engine decodes),");
        sb.AppendLine($"POSTed to `/dicomweb/studies` 10 per request into a fresh database per run, after an untimed warm-up store. {runs} runs.\n");
        sb.AppendLine("| run | seconds | instances/s | MB/s | stored | failed |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var i = 0; i < rates.Count; i++)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {i + 1} | {rates[i].Seconds:0.00} | {files.Count / rates[i].Seconds:0.0} | {bytes / 1e6 / rates[i].Seconds:0.00} | {rates[i].Stored} | {rates[i].Failed} |"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| median | {median.Seconds:0.00} | {files.Count / median.Seconds:0.0} | {bytes / 1e6 / median.Seconds:0.00} | | |"));
        engine.Sort();
        var e = engine[engine.Count / 2];
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| engine `Ingest` of the same files, one call, no HTTP (median) | {e:0.00} | {files.Count / e:0.0} | {bytes / 1e6 / e:0.00} | | |"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"\nSTOW-RS / engine time ratio (medians, same runs): {median.Seconds / e:0.00}."));
        return sb.ToString();
    }

    static bool IsStorableImage(string path)
    {
        try
        {
            using var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
            return f.IsComplete && (f.StoppedBeforePixels || f.PixelData != null)
                && f.Dataset.GetString(DicomTag.SOPInstanceUID) is { Length: > 0 } && f.Dataset.GetString(DicomTag.StudyInstanceUID) is { Length: > 0 }
                && f.Dataset.GetString(DicomTag.SeriesInstanceUID) is { Length: > 0 };
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException) { return false; }
    }

    static (int Stored, int Failed) Store(HttpClient client, IReadOnlyList<string> files)
    {
        var body = new MultipartContent("related", "bench-" + Guid.NewGuid().ToString("N"));
        body.Headers.ContentType!.Parameters.Add(new NameValueHeaderValue("type", "\"application/dicom\""));
        foreach (var f in files)
        {
            var part = new ByteArrayContent(File.ReadAllBytes(f));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
            body.Add(part);
        }
        var r = client.PostAsync("dicomweb/studies", body).GetAwaiter().GetResult();
        var json = System.Text.Json.Nodes.JsonNode.Parse(r.Content.ReadAsStringAsync().GetAwaiter().GetResult())!;
        return (json["00081199"]?["Value"]?.AsArray().Count ?? 0, json["00081198"]?["Value"]?.AsArray().Count ?? 0);
    }
}
