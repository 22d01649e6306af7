using System.Text.Json.Nodes;
using Casebook.Cli;
using Casebook.Extract.Dicom;
using Xunit;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>The three ways a file is read (whole in memory, header-only prefix, windowed with deferred values) agree.</summary>
public class DicomReadPathTests
{
    static string DumpWithoutPixels(DicomFile f)
    {
        var o = JsonNode.Parse(DicomJson.Dump(f))!.AsObject();
        var kept = new JsonArray();
        foreach (var e in o["elements"]!.AsArray())
            if (string.CompareOrdinal(e!["tag"]!.GetValue<string>(), "(7FE0,0008)") < 0) kept.Add(e.DeepClone());
        return kept.ToJsonString();
    }

    [Fact]
    public void Header_only_and_windowed_reads_match_the_in_memory_read()
    {
        var files = PydicomComparisonTests.AllFiles().Where(p => p.StartsWith(SharedData.Root!)).ToList();
        var compared = 0;
        foreach (var path in files)
        {
            DicomFile full;
            try { full = DicomFile.Open(path); } catch (DicomParseException) { continue; }
            using (full)
            {
                if (!full.IsComplete) continue;
                var expected = DumpWithoutPixels(full);
                using (var header = DicomFile.Open(path, DicomReadOptions.HeaderOnly))
                {
                    Assert.True(header.IsComplete, path);
                    Assert.Equal(expected, DumpWithoutPixels(header));
                    Assert.Equal(full.PixelData != null, header.StoppedBeforePixels);
                }
                using (var windowed = DicomFile.Open(path, new DicomReadOptions { ReadWholeFileUpTo = 0, DeferValuesLongerThan = 256 }))
                {
                    Assert.True(windowed.IsComplete, path);
                    Assert.Equal(expected, DumpWithoutPixels(windowed));
                    if (full.PixelData is { Fragments: null } px)
                        Assert.Equal(px.RawValue.ToArray(), windowed.PixelData!.RawValue.ToArray());
                }
                compared++;
            }
        }
        Assert.True(compared > 250, $"compared {compared}");
    }

    [Fact]
    public void Cli_dump_json_follows_the_contract()
    {
        var path = Path.Combine(SharedData.Require("dicom/pydicom"), "CT_small.dcm");
        var (rc, stdout) = RunCli(["dump", path, "--json"]);
        Assert.Equal(0, rc);
        var o = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal("1.2.840.10008.1.2.1", o["transfer_syntax"]!.GetValue<string>());
        var els = o["elements"]!.AsArray();
        var name = els.First(e => e!["tag"]!.GetValue<string>() == "(0010,0010)")!;
        Assert.Equal("PN", name["vr"]!.GetValue<string>());
        Assert.Equal("PatientName", name["keyword"]!.GetValue<string>());
        Assert.Equal("CompressedSamples^CT1", name["value"]!.GetValue<string>());
        Assert.Equal(128, els.First(e => e!["keyword"]!.GetValue<string>() == "Rows")!["value"]!.GetValue<int>());
        Assert.Equal(32768, els.First(e => e!["keyword"]!.GetValue<string>() == "PixelData")!["value"]!["length"]!.GetValue<int>());

        var (rcTruncated, _) = RunCli(["dump", Path.Combine(SharedData.Require("dicom/pydicom"), "MR_truncated.dcm"), "--json"]);
        Assert.Equal(3, rcTruncated); // partial: errors listed
    }

    /// <summary>Runs <c>dicom</c> in-process (the verb's entry point), capturing standard output.</summary>
    static (int, string) RunCli(string[] args)
    {
        var original = Console.Out;
        var originalErr = Console.Error;
        var capture = new StringWriter();
        try
        {
            Console.SetOut(capture);
            Console.SetError(TextWriter.Null);
            var rc = DicomCommands.Run(args);
            return (rc, capture.ToString());
        }
        finally { Console.SetOut(original); Console.SetError(originalErr); }
    }
}
