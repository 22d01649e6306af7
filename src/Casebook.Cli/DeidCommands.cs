using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;

namespace Casebook.Cli;

/// <summary>
/// <c>casebook dicom deid IN OUT [--key-file F] [--issuer I] [--retain-device] [--keep-private TAG,...] [--no-date-shift]
/// [--no-clean-descriptors] [--metadata]</c>: writes the de-identified file with the engine ingest uses (same key file,
/// same date shift rules). It never creates a database. Exit codes: 0 written, 1 usage, 2 input not readable or not complete.
/// </summary>
public static class DeidCommands
{
    const string Usage = "usage: casebook dicom deid IN OUT [--key-file F] [--issuer I] [--retain-device] [--keep-private TAG,...]\n" +
                         "                              [--no-date-shift] [--no-clean-descriptors] [--metadata]";

    public static int Run(string[] args)
    {
        try
        {
            var a = new Args(args, new HashSet<string> { "retain-device", "no-date-shift", "no-clean-descriptors", "metadata" });
            var keyFile = a.Get("key-file");
            var issuer = a.Get("issuer");
            var retainDevice = a.Flag("retain-device");
            var keep = a.Get("keep-private");
            var noShift = a.Flag("no-date-shift");
            var noClean = a.Flag("no-clean-descriptors");
            var printMetadata = a.Flag("metadata");
            a.EnsureAllUsed();
            if (a.Positional.Count != 2) throw new UsageException("deid takes IN and OUT");
            var (input, output) = (a.Positional[0], a.Positional[1]);
            if (!File.Exists(input)) { Console.Error.WriteLine($"casebook dicom deid: no such file: {input}"); return 2; }

            List<SafePrivateTag> safe;
            try { safe = (keep ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SafePrivateTag.Parse).ToList(); }
            catch (FormatException e) { throw new UsageException("--keep-private: " + e.Message); }

            var options = new DeidOptions
            {
                Issuer = issuer,
                RetainDeviceIdentity = retainDevice,
                RetainLongitudinalModifiedDates = !noShift,
                CleanDescriptors = !noClean,
                SafePrivateTags = safe,
            };
            var deid = new DicomDeidentifier(PatientPseudonym.Load(keyFile), options);
            DeidResult result;
            try { result = deid.DeidentifyFile(input, output); }
            catch (Exception e) when (e is DicomParseException or InvalidDataException or InvalidOperationException or NotSupportedException)
            {
                Console.Error.WriteLine($"casebook dicom deid: {input}: {e.Message}");
                return 2;
            }
            if (printMetadata) Console.Out.WriteLine(result.Metadata.ToJson());
            if (result.Metadata.BurnedInAnnotation) Console.Error.WriteLine("warning: Burned In Annotation is YES: the pixels may show identifying text");
            return 0;
        }
        catch (UsageException e) { Console.Error.WriteLine(e.Message + "\n" + Usage); return 1; }
    }
}
