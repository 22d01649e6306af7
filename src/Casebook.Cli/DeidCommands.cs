using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;

namespace Casebook.Cli;

/// <summary>
/// <c>casebook dicom deid IN OUT [--key-file F] [--issuer I] [options]</c>: writes the de-identified file with the engine ingest
/// uses (same key file, same date shift rules). It never creates a database. Exit codes: 0 written, 1 usage, 2 input not
/// readable or not complete. Options are the PS3.15 E.3 options (recorded in (0012,0063/0064)) and burned-in text checks.
/// </summary>
public static class DeidCommands
{
    const string Usage = """
        usage: casebook dicom deid IN OUT [--key-file F] [--issuer I] [--metadata]
          PS3.15 options (defaults: modified dates and clean descriptors on, everything else off):
          --retain-device            Retain Device Identity (station name, serial numbers)
          --retain-institution       Retain Institution Identity
          --retain-patient-characteristics   Retain Patient Characteristics (sex, age, size, weight, ...)
          --retain-uids              Retain UIDs (no remapping)
          --clean-structured-content Clean Structured Content (keep SR content, cleaned)
          --clean-graphics           Clean Graphics (keep overlays and graphic annotations, text removed)
          --keep-private TAG,...     Retain Safe Private: private tags to keep (e.g. 0019,100A or CREATOR/0019,xx0A)
          --no-date-shift            remove dates instead of shifting them
          --no-clean-descriptors     remove descriptors instead of cleaning them
          burned-in text:
          --ocr-burned-in            OCR the image borders (US, SC, XA, RF, CR, DX, OT, ES) and flag text found
          --mask-burned-in           also black out the text found (implies --ocr-burned-in)
          --mask X,Y,W,H[;...]       black out these rectangles in every frame
        """;

    static readonly HashSet<string> Flags = ["retain-device", "retain-institution", "retain-patient-characteristics", "retain-uids",
        "clean-structured-content", "clean-graphics", "no-date-shift", "no-clean-descriptors", "metadata", "ocr-burned-in", "mask-burned-in"];

    public static int Run(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h")) { Console.Out.WriteLine(Usage); return 0; }
        try
        {
            var a = new Args(args, Flags);
            var keyFile = a.Get("key-file");
            var issuer = a.Get("issuer");
            var keep = a.Get("keep-private");
            var mask = a.Get("mask");
            var options = new DeidOptions
            {
                Issuer = issuer,
                RetainDeviceIdentity = a.Flag("retain-device"),
                RetainInstitutionIdentity = a.Flag("retain-institution"),
                RetainPatientCharacteristics = a.Flag("retain-patient-characteristics"),
                RetainUids = a.Flag("retain-uids"),
                CleanStructuredContent = a.Flag("clean-structured-content"),
                CleanGraphics = a.Flag("clean-graphics"),
                RetainLongitudinalModifiedDates = !a.Flag("no-date-shift"),
                CleanDescriptors = !a.Flag("no-clean-descriptors"),
            };
            var maskBurned = a.Flag("mask-burned-in");
            if (a.Flag("ocr-burned-in") || maskBurned) options = options with { BurnedInText = new BurnedInTextOptions { Mask = maskBurned } };
            var printMetadata = a.Flag("metadata");
            a.EnsureAllUsed();
            if (a.Positional.Count != 2) throw new UsageException("deid takes IN and OUT");
            var (input, output) = (a.Positional[0], a.Positional[1]);
            if (!File.Exists(input)) { Console.Error.WriteLine($"casebook dicom deid: no such file: {input}"); return 2; }

            try { options = options with { SafePrivateTags = (keep ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SafePrivateTag.Parse).ToList() }; }
            catch (FormatException e) { throw new UsageException("--keep-private: " + e.Message); }
            if (mask != null) options = options with { MaskRegions = ParseRegions(mask) };

            var deid = new DicomDeidentifier(PatientPseudonym.Load(keyFile), options);
            DeidResult result;
            try { result = deid.DeidentifyFile(input, output); }
            catch (Exception e) when (e is DicomParseException or InvalidDataException or InvalidOperationException or NotSupportedException)
            {
                Console.Error.WriteLine($"casebook dicom deid: {input}: {e.Message}");
                return 2;
            }
            if (printMetadata) Console.Out.WriteLine(result.Metadata.ToJson());
            var burned = result.Metadata.BurnedInAnnotation;
            if (burned.Header) Console.Error.WriteLine("warning: Burned In Annotation is YES: the pixels may show identifying text");
            if (burned.OcrTextFound == true && !burned.Masked) Console.Error.WriteLine($"warning: OCR found {burned.OcrWords} word(s) burned into the image borders (not masked; use --mask-burned-in)");
            return 0;
        }
        catch (UsageException e) { Console.Error.WriteLine(e.Message + "\n" + Usage); return 1; }
    }

    /// <summary>"X,Y,W,H;X,Y,W,H" in pixels.</summary>
    static List<PixelRegion> ParseRegions(string text)
    {
        var list = new List<PixelRegion>();
        foreach (var r in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var p = r.Split(',', StringSplitOptions.TrimEntries);
            if (p.Length != 4 || !p.All(v => int.TryParse(v, out _))) throw new UsageException($"--mask: '{r}' is not X,Y,W,H");
            var v = p.Select(int.Parse).ToArray();
            if (v[2] <= 0 || v[3] <= 0) throw new UsageException($"--mask: '{r}' has no area");
            list.Add(new PixelRegion(v[0], v[1], v[2], v[3]));
        }
        return list;
    }
}
