using System.Diagnostics;
using System.Text;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Bench;

/// <summary>
/// Decode throughput (MB/s of decoded pixel data, stored type) per transfer syntax over the wg04 set (and the JPEG
/// baseline files of the pydicom/fo-dicom sets), and native vs managed where both exist (8-bit baseline JPEG:
/// libjpeg-turbo vs the managed decoder). Single thread; each file decoded repeatedly for at least ~0.3 s.
/// </summary>
public static class DicomPixelBenchmarks
{
    public static string Run(string sharedDataDir)
    {
        var wg04 = Path.Combine(sharedDataDir, "dicom", "wg04");
        var sb = new StringBuilder();
        sb.AppendLine("## DICOM pixel decoding");
        sb.AppendLine();
        sb.AppendLine("Single-threaded decode of whole files to stored values (`PixelDecoder.Decode`), file bytes already in memory; MB/s = decoded bytes / time.");
        sb.AppendLine();
        sb.AppendLine("| transfer syntax | files | decoder | decoded MB | MB/s |");
        sb.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var dir in new[] { "RLE", "JPLL", "JPLY", "JLSL", "JLSN", "J2KR", "J2KI" })
        {
            var path = Path.Combine(wg04, dir);
            if (!Directory.Exists(path)) continue;
            var files = Directory.GetFiles(path).OrderBy(f => f).ToArray();
            Row(sb, $"wg04 {dir}", files, null); // JPLY: 12-bit files fall back from libjpeg-turbo to the managed decoder
        }
        var baseline = new[] { "dicom/pydicom/SC_rgb_jpeg_dcmtk.dcm", "dicom/pydicom/SC_rgb_dcmtk_+eb+cy+s2.dcm", "dicom/pydicom/SC_rgb_jpeg_lossy_gdcm.dcm", "dicom/fodicom/GH538-jpeg1.dcm", "dicom/fodicom/JPEGwithIcon.dcm" }
            .Select(r => Path.Combine(sharedDataDir, r)).Where(File.Exists).ToArray();
        if (baseline.Length > 0)
        {
            Row(sb, "JPEG baseline 8-bit", baseline, FrameDecoders.TurboJpeg);
            Row(sb, "JPEG baseline 8-bit", baseline, FrameDecoders.ManagedJpeg);
        }
        // Native (uncompressed) reference: the REF originals are zstd-compressed, so use the uncompressed sets at hand.
        var native = new[] { "dicom/pydicom/CT_small.dcm", "dicom/pydicom/MR_small.dcm", "dicom/fodicom/CT-MONO2-16-ankle", "dicom/highdicom/ct_image.dcm" }
            .Select(r => Path.Combine(sharedDataDir, r)).Where(File.Exists).ToArray();
        Row(sb, "native (uncompressed)", native, null);
        return sb.ToString();
    }

    static void Row(StringBuilder sb, string label, string[] files, IPixelFrameDecoder? decoder)
    {
        var loaded = files.Select(f => File.ReadAllBytes(f)).ToArray();
        long bytes = 0;
        var name = decoder?.Name;
        var sw = new Stopwatch();
        var rounds = 0;
        try
        {
            // warm-up, and the decoder name the registry picks
            foreach (var b in loaded)
            {
                using var f = DicomFile.Open(b);
                name ??= FrameDecoders.Find(f.TransferSyntax.Uid)?.Name;
                PixelDecoder.Decode(f, new PixelDecodeOptions { Decoder = decoder });
            }
            sw.Start();
            while (sw.Elapsed.TotalSeconds < 0.3 || rounds < 2)
            {
                foreach (var b in loaded)
                {
                    using var f = DicomFile.Open(b);
                    bytes += PixelDecoder.Decode(f, new PixelDecodeOptions { Decoder = decoder }).Buffer.LongLength;
                }
                rounds++;
            }
            sw.Stop();
            sb.AppendLine($"| {label} | {files.Length} | {name} | {bytes / 1e6 / rounds:0.0} | {bytes / 1e6 / sw.Elapsed.TotalSeconds:0} |");
        }
        catch (Exception e)
        {
            sb.AppendLine($"| {label} | {files.Length} | {name} | – | failed: {e.Message} |");
        }
    }
}
