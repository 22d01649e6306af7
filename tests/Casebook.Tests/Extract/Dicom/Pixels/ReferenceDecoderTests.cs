using System.Text;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;
using Xunit;
using Xunit.Abstractions;

namespace Casebook.Tests.Extract.Dicom.Pixels;

/// <summary>
/// Every file with pixel data under ../shared/data/dicom (pydicom, fo-dicom, highdicom sets) and Debian's pydicom test
/// files, decoded by us and by an independent decoder: GDCM's `gdcmconv --raw` (its own IJG, CharLS and OpenJPEG builds)
/// writes the native equivalent, which we read as uncompressed. Lossless syntaxes must match exactly, lossy ones within
/// 25 dB PSNR (see LossyFloorDb); files that neither decoder can read must get a clear error from us.
/// </summary>
public class ReferenceDecoderTests(ITestOutputHelper output)
{
    const string DebianPydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    /// <summary>Where we knowingly differ from GDCM, and why.</summary>
    static readonly Dictionary<string, string> KnownDifferences = new()
    {
        ["SC_rgb_rle_16bit.dcm"] = "GDCM 3.0.21 mis-orders 16-bit RGB RLE segments; pydicom agrees with us (NpyContractTests)",
        ["SC_rgb_rle_32bit.dcm"] = "GDCM 3.0.21 mis-orders 32-bit RGB RLE segments; pydicom agrees with us (NpyContractTests)",
        ["rtdose_expb.dcm"] = "GDCM 3.0.21 swaps 32-bit big endian values as 16-bit words; pydicom and the little endian twin rtdose.dcm agree with us",
        ["rtdose_expb_1frame.dcm"] = "as rtdose_expb.dcm",
        ["GH195.dcm"] = "a JFIF (YCbCr) stream labelled RGB: GDCM returns the YCbCr values unconverted; we convert as JFIF and libjpeg say",
    };

    /// <summary>Lossy floor against GDCM: its IJG build upsamples chroma and rounds the IDCT differently; sharp synthetic colour bars (SC_rgb_jpeg_lossy_gdcm) measure 28 dB.</summary>
    const double LossyFloorDb = 25;

    public static IEnumerable<string> FilesWithPixels()
    {
        var roots = new List<string> { SharedData.Require("dicom") };
        if (Directory.Exists(DebianPydicomFiles)) roots.Add(DebianPydicomFiles);
        foreach (var path in roots.SelectMany(r => Directory.EnumerateFiles(r, "*", SearchOption.AllDirectories)).OrderBy(p => p, StringComparer.Ordinal))
        {
            if (path.Contains("/wg04/") || path.EndsWith(".zst") || path.EndsWith(".txt") || path.EndsWith(".py") || path.EndsWith(".md")) continue;
            bool hasPixels;
            try
            {
                using var f = DicomFile.Open(path);
                hasPixels = f.PixelData is { Tag.Value: 0x7FE00010 };
            }
            catch (Exception) { continue; }
            if (hasPixels) yield return path;
        }
    }

    [Fact]
    public void Every_file_with_pixels_matches_GDCM_or_fails_clearly()
    {
        using var tmp = new TempDirectory();
        var report = new StringBuilder();
        var failures = new List<string>();
        var i = 0;
        foreach (var path in FilesWithPixels())
        {
            var name = Path.GetFileName(path);
            string syntax;
            PixelData? ours = null;
            string? ourError = null;
            using (var file = DicomFile.Open(path))
            {
                syntax = file.TransferSyntax.Uid;
                try { ours = PixelDecoder.Decode(file); }
                catch (PixelDecodeException e) { ourError = e.Message; }
            }
            var refPath = tmp[$"ref{i++}.dcm"];
            PixelData? reference = null;
            string? refError = null;
            try
            {
                PixelTestFiles.Run("gdcmconv", $"--raw \"{path}\" \"{refPath}\"");
                reference = PixelTestFiles.Decode(refPath);
            }
            catch (Exception e) { refError = e.Message.Split('\n')[0]; }

            string verdict;
            if (ours == null && reference == null) verdict = $"both fail; ours: {ourError}";
            else if (ours == null) { verdict = $"OURS FAILS: {ourError}"; if (!KnownDifferences.ContainsKey(name)) failures.Add($"{name}: {verdict}"); }
            else if (reference == null) verdict = $"GDCM fails ({refError}); ours decodes {Shape(ours)}";
            else if ((ours.Frames, ours.Rows, ours.Columns, ours.SamplesPerPixel) != (reference.Frames, reference.Rows, reference.Columns, reference.SamplesPerPixel))
            {
                verdict = $"SHAPE {Shape(ours)} vs GDCM {Shape(reference)}";
                if (!KnownDifferences.ContainsKey(name)) failures.Add($"{name}: {verdict}");
            }
            else
            {
                if (ours.PhotometricInterpretation == "RGB" && reference.PhotometricInterpretation.StartsWith("YBR") && reference.DataType == PixelDataType.UInt8)
                    ImageRenderer.YbrFullToRgb(reference.Buffer);
                var (psnr, maxErr) = PixelTestFiles.Compare(reference, ours);
                var lossless = TransferSyntaxUids.IsLossless(syntax);
                verdict = double.IsPositiveInfinity(psnr) ? "exact" : $"PSNR {psnr:0.0} dB, max error {maxErr}";
                if ((lossless && maxErr != 0) || psnr < LossyFloorDb)
                    if (!KnownDifferences.ContainsKey(name)) failures.Add($"{name} ({syntax}): {verdict}");
            }
            if (KnownDifferences.TryGetValue(name, out var why)) verdict += $" [known: {why}]";
            report.AppendLine($"{name} | {syntax} | {verdict}");
        }
        output.WriteLine(report.ToString());
        Assert.True(failures.Count == 0, "differences from GDCM:\n" + string.Join("\n", failures));
    }

    static string Shape(PixelData p) => $"{p.Frames}×{p.Rows}×{p.Columns}×{p.SamplesPerPixel} {p.DataType} {p.PhotometricInterpretation}";
}
