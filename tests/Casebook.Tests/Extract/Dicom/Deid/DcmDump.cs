using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Casebook.Tests.Extract.Dicom.Deid;

/// <summary>dcmtk's dcmdump (Debian) as the independent judge of what a written file contains.</summary>
public static partial class DcmDump
{
    /// <summary>Runs <c>dcmdump +L +E</c> (long values in full, errors to stderr); fails the test when it rejects the file.</summary>
    public static string Run(string path)
    {
        var psi = new ProcessStartInfo("dcmdump", ["+L", "-q", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { throw new InvalidOperationException("dcmdump is missing: run scripts/setup-system.sh (Debian dcmtk)"); }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"dcmdump rejected {path} (exit {p.ExitCode}): {stderr}");
        Assert.DoesNotContain("E: ", stderr);
        return stdout.Result;
    }

    /// <summary>Every tag dcmdump printed, at any nesting depth.</summary>
    public static HashSet<uint> Tags(string dump)
    {
        var set = new HashSet<uint>();
        foreach (Match m in TagLine().Matches(dump))
            set.Add(Convert.ToUInt32(m.Groups[1].Value + m.Groups[2].Value, 16));
        return set;
    }

    /// <summary>The printed value column of every line for a tag ("[value]", "(no value available)", ...).</summary>
    public static List<string> Values(string dump, uint tag)
    {
        var key = $"({tag >> 16:x4},{tag & 0xFFFF:x4})";
        return dump.Split('\n').Where(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal))
            .Select(l => l.TrimStart()[(key.Length + 4)..]).ToList();
    }

    [GeneratedRegex(@"^\s*\(([0-9a-f]{4}),([0-9a-f]{4})\)", RegexOptions.Multiline)]
    private static partial Regex TagLine();
}
