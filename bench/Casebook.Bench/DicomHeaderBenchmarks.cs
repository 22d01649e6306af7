using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;

namespace Casebook.Bench;

/// <summary>
/// Header-parse throughput (stop before pixel data) over every file under shared/data/dicom, side by side in one
/// run with pydicom (<c>dcmread(..., stop_before_pixels=True)</c>, timed inside one Python process) and dcmtk's
/// <c>dcmdump +sb PixelData</c> (one process for all files, so its time includes one process start).
/// Medians over repeats; MB/s counts the whole size of the files parsed. Casebook is timed twice: right after one pass
/// (JIT tier-0 code, as a short-lived CLI sees it) and after 2 s of passes (tiered JIT settled, as a long ingest sees it).
/// Allocated bytes per pass (GC.GetAllocatedBytesForCurrentThread) are load-independent.
/// </summary>
public static class DicomHeaderBenchmarks
{
    const int Repeats = 7;

    public static string Run(string sharedDataDir)
    {
        var root = Path.Combine(sharedDataDir, "dicom");
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(p => Path.GetExtension(p).ToLowerInvariant() is not (".zst" or ".txt" or ".json" or ".md" or ".gz" or ".zip") && !Path.GetFileName(p).StartsWith("README"))
            .Order(StringComparer.Ordinal).ToList();
        var bytes = files.Sum(f => new FileInfo(f).Length);
        var mb = bytes / 1e6;

        // Casebook: warm up once (JIT, page cache), then time each pass.
        int ok = 0, partial = 0, rejected = 0;
        foreach (var f in files)
        {
            try { using var d = DicomFile.Open(f, DicomReadOptions.HeaderOnly); if (d.IsComplete) ok++; else partial++; }
            catch (DicomParseException) { rejected++; }
        }
        double Pass()
        {
            var sw = Stopwatch.StartNew();
            foreach (var f in files)
            {
                try { using var d = DicomFile.Open(f, DicomReadOptions.HeaderOnly); }
                catch (DicomParseException) { }
            }
            return sw.Elapsed.TotalSeconds;
        }
        var cold = new List<double>();
        for (var r = 0; r < Repeats; r++) cold.Add(Pass());
        // Tiered JIT recompiles hot methods in the background ~100 ms after they get hot; give it time to settle.
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed.TotalSeconds < 2) Pass();
        var ours = new List<double>();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < Repeats; r++) ours.Add(Pass());
        var allocPerPass = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)Repeats;

        var (pydicom, pyNote) = RunPydicom(files);
        var (dcmdump, dcmNote) = RunDcmdump(files);

        var sb = new StringBuilder();
        sb.AppendLine("## DICOM header parse (stop before pixel data)");
        sb.AppendLine();
        sb.AppendLine($"{files.Count} files, {mb:F1} MB under `shared/data/dicom` (ours: {ok} complete, {partial} partial with an error, {rejected} rejected). " +
                      $"Median of {Repeats} passes; MB/s is file bytes over time (pixel data is skipped, not read).");
        sb.AppendLine();
        sb.AppendLine("| reader | median s/pass | files/s | MB/s | vs pydicom |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        var ourMedian = Median(ours);
        var pyMedian = pydicom.Count > 0 ? Median(pydicom) : double.NaN;
        void Row(string name, double s) => sb.AppendLine(
            $"| {name} | {s.ToString("F4", CultureInfo.InvariantCulture)} | {(files.Count / s).ToString("F0", CultureInfo.InvariantCulture)} | {(mb / s).ToString("F0", CultureInfo.InvariantCulture)} | " +
            (double.IsNaN(pyMedian) ? "n/a" : $"{(pyMedian / s).ToString("F1", CultureInfo.InvariantCulture)}×") + " |");
        Row("Casebook `DicomFile.Open(HeaderOnly)`, JIT settled", ourMedian);
        Row("Casebook, first passes (tier-0 JIT)", Median(cold));
        if (pydicom.Count > 0) Row("pydicom `dcmread(stop_before_pixels=True)`", pyMedian);
        if (dcmdump.Count > 0) Row("dcmtk `dcmdump +sb PixelData` (one process)", Median(dcmdump));
        sb.AppendLine();
        sb.AppendLine($"Casebook allocates {(allocPerPass / 1e6).ToString("F2", CultureInfo.InvariantCulture)} MB per pass ({(allocPerPass / files.Count / 1024).ToString("F1", CultureInfo.InvariantCulture)} KiB per file).");
        if (pyNote != null) sb.AppendLine($"pydicom: {pyNote}");
        if (dcmNote != null) sb.AppendLine($"dcmdump: {dcmNote}");
        if (!double.IsNaN(pyMedian))
            sb.AppendLine($"Floor (issue 3): 10× pydicom — {(pyMedian / ourMedian >= 10 ? "met" : "NOT met")} ({(pyMedian / ourMedian).ToString("F1", CultureInfo.InvariantCulture)}× JIT settled, " +
                          $"{(pyMedian / Median(cold)).ToString("F1", CultureInfo.InvariantCulture)}× in the first passes).");
        return sb.ToString();
    }

    static double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

    const string PydicomScript = """
import json, sys, time, warnings
import pydicom
warnings.simplefilter("ignore")
paths = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
repeats = int(sys.argv[2])
def one_pass():
    bad = 0
    for p in paths:
        try:
            pydicom.dcmread(p, stop_before_pixels=True, force=True)
        except Exception:
            bad += 1
    return bad
bad = one_pass()
times = []
for _ in range(repeats):
    t = time.perf_counter(); one_pass(); times.append(time.perf_counter() - t)
print(json.dumps({"times": times, "errors": bad, "version": pydicom.__version__}))
""";

    static (List<double>, string?) RunPydicom(List<string> files)
    {
        var list = Path.GetTempFileName();
        var script = Path.GetTempFileName() + ".py";
        try
        {
            File.WriteAllLines(list, files);
            File.WriteAllText(script, PydicomScript);
            foreach (var python in new[] { "python3", "/usr/bin/python3" })
            {
                try
                {
                    var psi = new ProcessStartInfo(python, [script, list, Repeats.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true, RedirectStandardError = true };
                    using var p = Process.Start(psi)!;
                    var stdout = p.StandardOutput.ReadToEnd();
                    p.WaitForExit();
                    if (p.ExitCode != 0) continue;
                    var o = JsonNode.Parse(stdout)!;
                    var times = o["times"]!.AsArray().Select(t => t!.GetValue<double>()).ToList();
                    return (times, $"pydicom {o["version"]} via `{python}`, {o["errors"]} files raised.");
                }
                catch (System.ComponentModel.Win32Exception) { }
            }
            return ([], "not available (install python3-pydicom).");
        }
        finally { File.Delete(list); File.Delete(script); }
    }

    static (List<double>, string?) RunDcmdump(List<string> files)
    {
        var times = new List<double>();
        try
        {
            for (var r = 0; r < Math.Min(Repeats, 5); r++)
            {
                var psi = new ProcessStartInfo("dcmdump") { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { "-q", "+sb", "7fe0,0010" }) psi.ArgumentList.Add(a);
                foreach (var f in files) psi.ArgumentList.Add(f);
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                var drainOut = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                var drainErr = p.StandardError.BaseStream.CopyToAsync(Stream.Null);
                p.WaitForExit();
                Task.WaitAll(drainOut, drainErr);
                times.Add(sw.Elapsed.TotalSeconds);
            }
            return (times, "dcmtk's dcmdump also formats and prints every element, so it does more work than a parse.");
        }
        catch (System.ComponentModel.Win32Exception) { return ([], "not available (install dcmtk)."); }
    }
}
