using System.Diagnostics;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Xunit;
using Xunit.Abstractions;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>
/// Every DICOM file under ../shared/data/dicom and Debian's pydicom test files either reads with element values
/// equal to pydicom's (an independent reader) or is a known-malformed file that gets a clear error.
/// pydicom's view comes from pydicom_dump.py, run once for all files.
/// </summary>
public class PydicomComparisonTests(ITestOutputHelper output)
{
    const string DebianPydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    /// <summary>Files that are malformed on purpose: our reader must report an error (offset and tag), pydicom may or may not.</summary>
    static readonly Dictionary<string, string> KnownMalformed = new()
    {
        ["MR_truncated.dcm"] = "pixel data value runs past the end of the file",
        ["rtplan_truncated.dcm"] = "the file ends inside a sequence",
        ["no_meta.dcm"] = "pydicom's copy starts one byte into an element (0x20 then 08 00 05 00...): no valid first element",
        ["GH179B.dcm"] = "after the non-standard VR of (0028,0120), (2031,0028) claims 20300 bytes of the 1384 left; dcmtk stops there too",
        ["GH364.dcm"] = "an item tag (FFFE,E000) at the top level after (0018,5020): dcmtk and pydicom fail on it too",
    };

    /// <summary>Files pydicom misreads or rejects while we read them completely (checked against dcmdump by hand).</summary>
    static readonly Dictionary<string, string> PydicomMisreads = new()
    {
        ["GH179A.dcm"] = "(0028,0120) has the non-standard VR bytes 20 20; dcmtk and we assume a 16-bit length, pydicom reads on into the next elements",
        ["GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm"] = "big endian with an undefined-length pixel data element; pydicom fails 'No tag to read', dcmtk reads it",
    };

    public static IEnumerable<string> AllFiles()
    {
        var roots = new List<string> { SharedData.Require("dicom") };
        if (Directory.Exists(DebianPydicomFiles)) roots.Add(DebianPydicomFiles);
        return roots.SelectMany(r => Directory.EnumerateFiles(r, "*", SearchOption.AllDirectories))
            .Where(IsCandidate).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    static bool IsCandidate(string path)
    {
        var name = Path.GetFileName(path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".txt" or ".json" or ".dump" or ".gz" or ".zst" or ".md" or ".py" or ".zip") return false;
        return !name.StartsWith('.') && !name.StartsWith("README", StringComparison.Ordinal);
    }

    internal static string FindPythonWithPydicom()
    {
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                var psi = new ProcessStartInfo(candidate, ["-c", "import pydicom"]) { RedirectStandardError = true, RedirectStandardOutput = true };
                using var p = Process.Start(psi)!;
                p.WaitForExit(30_000);
                if (p.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        throw new InvalidOperationException("pydicom is not installed for python3 (Debian: apt-get install python3-pydicom; scripts/setup-system.sh installs it)");
    }

    internal static Dictionary<string, JsonObject> RunPydicom(IReadOnlyList<string> paths)
    {
        var python = FindPythonWithPydicom();
        var list = Path.GetTempFileName();
        File.WriteAllLines(list, paths);
        try
        {
            var script = Path.Combine(AppContext.BaseDirectory, "Extract", "Dicom", "pydicom_dump.py");
            var psi = new ProcessStartInfo(python, [script, "--list", list]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var result = new Dictionary<string, JsonObject>();
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null)
            {
                var o = JsonNode.Parse(line)!.AsObject();
                result[o["path"]!.GetValue<string>()] = o;
            }
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"pydicom_dump.py failed ({p.ExitCode}): {stderr.Result}");
            return result;
        }
        finally { File.Delete(list); }
    }

    [Fact]
    public void Every_file_matches_pydicom_or_is_known_malformed()
    {
        var files = AllFiles().ToList();
        Assert.True(files.Count > 100, $"expected the shared and Debian DICOM files, found {files.Count}");
        var theirs = RunPydicom(files);
        var failures = new List<string>();
        int matched = 0, malformed = 0, elementsCompared = 0;
        foreach (var path in files)
        {
            var name = Path.GetFileName(path);
            DicomFile? file = null;
            string? fatal = null;
            try { file = DicomFile.Open(path); }
            catch (DicomParseException e) { fatal = e.Message; }
            using var _ = file;
            var problems = fatal ?? (file!.IsComplete ? null : string.Join("; ", file.Problems.Select(p => p.Message)));

            if (KnownMalformed.TryGetValue(name, out var why))
            {
                if (problems == null) failures.Add($"{path}: known malformed ({why}) but read without error");
                else { malformed++; output.WriteLine($"malformed as expected: {name}: {problems}"); }
                continue;
            }
            if (problems != null) { failures.Add($"{path}: our reader reported: {problems}"); continue; }
            if (PydicomMisreads.ContainsKey(name)) { matched++; continue; }
            var pd = theirs[path];
            if (pd["error"] is { } err) { failures.Add($"{path}: pydicom failed ({err}) but we read it; add it to KnownMalformed with a reason if it is"); continue; }

            var ours = JsonNode.Parse(DicomJson.Dump(file!))!.AsObject();
            var diffs = new List<string>();
            elementsCompared += CompareDatasets(ours["elements"]!.AsArray(), pd["elements"]!.AsArray(), "", diffs);
            if (diffs.Count > 0) failures.Add($"{path}:\n    " + string.Join("\n    ", diffs.Take(12)));
            else matched++;
        }
        output.WriteLine($"{files.Count} files: {matched} equal to pydicom ({elementsCompared} elements), {malformed} known malformed, {failures.Count} failures");
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} files differ from pydicom:\n" + string.Join("\n", failures.Take(40)));
    }

    /// <summary>Compares two element lists by tag; returns the number of elements compared.</summary>
    internal static int CompareDatasets(JsonArray ours, JsonArray theirs, string path, List<string> diffs)
    {
        var a = ByTag(ours);
        var b = ByTag(theirs);
        var n = 0;
        foreach (var tag in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            var where = path + tag;
            if (!a.TryGetValue(tag, out var x)) { diffs.Add($"{where}: only pydicom has it ({b[tag]["vr"]})"); continue; }
            if (!b.TryGetValue(tag, out var y)) { diffs.Add($"{where}: only we have it ({x["vr"]})"); continue; }
            n++;
            var vx = x["vr"]!.GetValue<string>();
            var vy = y["vr"]!.GetValue<string>();
            var isPrivate = (Convert.ToUInt16(tag.Substring(1, 4), 16) & 1) == 1;
            // pydicom knows private dictionaries; we keep private implicit VR elements as UN (PS3.5 §7.8 gives no VR).
            if (isPrivate && (vx == "UN" || vy == "UN") && vx != vy) continue;
            if (vx != vy) { diffs.Add($"{where}: VR {vx} vs pydicom {vy}"); continue; }
            if (x["items"] is JsonArray xi)
            {
                if (y["items"] is not JsonArray yi) { diffs.Add($"{where}: we have a sequence, pydicom not"); continue; }
                if (xi.Count != yi.Count) { diffs.Add($"{where}: {xi.Count} items vs pydicom {yi.Count}"); continue; }
                for (var i = 0; i < xi.Count; i++) n += CompareDatasets(xi[i]!.AsArray(), yi[i]!.AsArray(), $"{where}[{i}]", diffs);
                continue;
            }
            var ya = y["value"];
            if (ya is JsonObject yo && yo.ContainsKey("pydicom_error")) continue; // pydicom could not convert it: nothing to compare against
            if (!ValuesEqual(x["value"], ya))
                diffs.Add($"{where} {vx}: {Short(x["value"])} vs pydicom {Short(ya)}");
        }
        return n;
    }

    static Dictionary<string, JsonObject> ByTag(JsonArray elements)
    {
        var d = new Dictionary<string, JsonObject>();
        foreach (var e in elements) d.TryAdd(e!["tag"]!.GetValue<string>(), e.AsObject());
        return d;
    }

    static string Short(JsonNode? n) { var s = n?.ToJsonString() ?? "null"; return s.Length > 120 ? s[..120] + "…" : s; }

    /// <summary>Numbers compare as doubles; strings compare with insignificant spaces (PS3.5 Table 6.2-1) trimmed on both sides.</summary>
    internal static bool ValuesEqual(JsonNode? x, JsonNode? y)
    {
        if (x is JsonArray xa && y is JsonArray ya)
            return xa.Count == ya.Count && xa.Zip(ya).All(p => ValuesEqual(p.First, p.Second));
        if (x is JsonObject xo && y is JsonObject yo)
            return xo["length"]?.GetValue<long>() == yo["length"]?.GetValue<long>();
        if (x is JsonValue xv && y is JsonValue yv)
        {
            if (xv.TryGetValue<double>(out var dx) && yv.TryGetValue<double>(out var dy))
                return dx == dy || Math.Abs(dx - dy) <= 1e-12 * Math.Max(Math.Abs(dx), Math.Abs(dy));
            return Norm(xv.ToString()) == Norm(yv.ToString());
        }
        if (x == null || y == null) return Norm(x?.ToString()) == Norm(y?.ToString());
        return false;
    }

    static string Norm(string? s) => (s ?? "").Trim(' ', '\0');
}
