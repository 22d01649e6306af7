using System.Diagnostics;
using System.Text;
using Casebook.Extract.Dicom;

namespace Casebook.Bench;

/// <summary>
/// A 200-slice CT series from file to embedded slices (discover, de-identify and store every instance, render and embed the
/// budgeted slices, pool, commit), seconds per series. The series is synthesised from the IBSI-1 CT phantom's 60 real
/// slices: 200 copies cycling through them, each with a new SOP Instance UID, Instance Number and ImagePositionPatient z
/// (patched in place: the UIDs are padded to the original value lengths, so no element length changes).
/// </summary>
public static class DicomIngestBenchmarks
{
    public static string Run(string sharedDataDir, string workDir)
    {
        var source = Directory.GetFiles(Path.Combine(sharedDataDir, "radiomics", "ibsi1_ct_phantom", "dicom", "image"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var series = Path.Combine(workDir, "ct200");
        if (Directory.Exists(series)) Directory.Delete(series, true);
        Directory.CreateDirectory(series);
        for (var i = 0; i < 200; i++) File.WriteAllBytes(Path.Combine(series, $"{i:D3}.dcm"), Patch(File.ReadAllBytes(source[i % source.Length]), i));
        var sb = new StringBuilder();
        sb.AppendLine("## DICOM ingest: a 200-slice CT series");
        sb.AppendLine();
        sb.AppendLine("From files to committed, embedded slices (`db.Ingest`), default budget (16 embedded slices + pooled series vector), every instance de-identified and stored; 2 cores.");
        sb.AppendLine();
        sb.AppendLine("| run | seconds | slices | embedded |");
        sb.AppendLine("| --- | --- | --- | --- |");
        for (var run = 1; run <= 2; run++)
        {
            var dbDir = Path.Combine(workDir, $"ct200-db-{run}");
            if (Directory.Exists(dbDir)) Directory.Delete(dbDir, true);
            using var db = CasebookDb.Open(dbDir, new CasebookOptions { KeyFile = Path.Combine(workDir, "bench.key") });
            var clock = Stopwatch.StartNew();
            var result = db.Ingest([series]);
            var seconds = clock.Elapsed.TotalSeconds;
            var study = db.Studies().Single();
            sb.AppendLine($"| {(run == 1 ? "cold (model load)" : "warm")} | {seconds:F2} | {study.Segments.Count(g => g.Source.Frame != null)} | {study.Segments.Count(g => g.ImageEmbedding != null)} |");
            if (result.Errors.Count > 0) sb.AppendLine($"\n(errors: {string.Join("; ", result.Errors.Take(3).Select(e => e.Reason))})");
        }
        return sb.ToString();
    }

    /// <summary>New SOP Instance UID (same length), Instance Number and z position for copy <paramref name="i"/>.</summary>
    static byte[] Patch(byte[] bytes, int i)
    {
        using var f = DicomFile.Open(bytes);
        void Overwrite(DicomTag tag, Func<int, string> make)
        {
            var e = f.Dataset.Find(tag);
            if (e == null) return;
            var value = make((int)e.Length).PadRight((int)e.Length, tag == DicomTag.SOPInstanceUID ? '\0' : ' ');
            Encoding.ASCII.GetBytes(value[..(int)e.Length]).CopyTo(bytes, e.ValueOffset);
        }
        Overwrite(DicomTag.SOPInstanceUID, n => $"2.25.{i + 1}{new string('7', Math.Max(0, n - 8 - $"{i + 1}".Length))}");
        Overwrite(DicomTag.InstanceNumber, _ => $"{i + 1}");
        Overwrite(DicomTag.ImagePositionPatient, n => $"0\\0\\{i * 1.5:F1}");
        return bytes;
    }
}
