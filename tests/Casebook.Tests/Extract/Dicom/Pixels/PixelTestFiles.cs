using System.Diagnostics;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Tests.Extract.Dicom.Pixels;

/// <summary>Reference images for pixel tests: wg04 REF originals (zstd, decompressed once per run to a temp folder) and independent decoders' output.</summary>
public static class PixelTestFiles
{
    static readonly Lazy<string> RefDir = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "casebook-wg04-ref-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    });

    /// <summary>The uncompressed original of a wg04 image (e.g. "CT1"), decompressed from REF/NAME_UNC.zst with the zstd tool.</summary>
    public static string Reference(string name)
    {
        var zst = SharedData.Require($"dicom/wg04/REF/{name}_UNC.zst");
        var target = Path.Combine(RefDir.Value, name + "_UNC.dcm");
        lock (RefDir)
        {
            if (!File.Exists(target)) Run("zstd", $"-q -d -f \"{zst}\" -o \"{target}\"");
        }
        return target;
    }

    /// <summary>Runs a tool, failing with its stderr when it exits non-zero.</summary>
    public static void Run(string tool, string arguments)
    {
        var psi = new ProcessStartInfo(tool, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {tool}");
        var err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {arguments} exited {p.ExitCode}: {err}");
    }

    public static PixelData Decode(string path, PixelDecodeOptions? options = null)
    {
        using var file = DicomFile.Open(path);
        return PixelDecoder.Decode(file, options);
    }

    /// <summary>Peak signal-to-noise ratio in dB over all samples, peak 2^BitsStored − 1; +∞ when equal.</summary>
    public static (double Psnr, long MaxError) Compare(PixelData expected, PixelData actual)
    {
        double sse = 0; long maxErr = 0; long n = 0;
        for (var f = 0; f < expected.Frames; f++)
        {
            var a = expected.FrameValues(f); var b = actual.FrameValues(f);
            for (var i = 0; i < a.Length; i++)
            {
                long d = a[i] - b[i];
                sse += (double)d * d; n++;
                if (Math.Abs(d) > maxErr) maxErr = Math.Abs(d);
            }
        }
        if (sse == 0) return (double.PositiveInfinity, 0);
        var peak = (1L << expected.BitsStored) - 1;
        return (10 * Math.Log10((double)peak * peak / (sse / n)), maxErr);
    }

    public static void AssertSameShape(PixelData expected, PixelData actual)
    {
        Assert.Equal((expected.Frames, expected.Rows, expected.Columns, expected.SamplesPerPixel), (actual.Frames, actual.Rows, actual.Columns, actual.SamplesPerPixel));
    }
}
