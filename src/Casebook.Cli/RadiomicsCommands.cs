using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Extract.Radiomics;
using Casebook.Extract.Radiomics.Texture;
using Casebook.Extract.Volumes;

namespace Casebook.Cli;

/// <summary>
/// `casebook radiomics IMAGE MASK [--config dig|A|B|C|D|E] [--roi NAME] [--json]`: IBSI 1 features of one region
/// (docs/radiomics.md). IMAGE: NIfTI file or DICOM series folder; MASK: NIfTI file, RTSTRUCT or SEG file (or a folder with one).
/// </summary>
public static class RadiomicsCommands
{
    public static int Run(Args a)
    {
        if (a.Positional.Count != 2) throw new UsageException("usage: casebook radiomics IMAGE MASK [--config dig|A|B|C|D|E] [--roi NAME] [--json]");
        var config = a.Get("config") ?? "A";
        var json = a.Flag("json");
        var roiName = a.Get("roi");
        a.EnsureAllUsed();
        if (!RadiomicsSettings.PresetNames.Contains(config))
            throw new UsageException($"--config must be one of {string.Join(", ", RadiomicsSettings.PresetNames)}, not '{config}'");
        var settings = RadiomicsSettings.Preset(config);

        IReadOnlyDictionary<string, double> features;
        var clock = Stopwatch.StartNew();
        try
        {
            var image = VolumeInputs.ReadImage(a.Positional[0]);
            var mask = VolumeInputs.ReadMask(a.Positional[1], image, roiName);
            features = Radiomics.Compute(image, mask, settings, TextureFeatures.ForRadiomics);
        }
        catch (VolumeFormatException e) { Console.Error.WriteLine($"casebook: {e.Message}"); return 1; }
        catch (ArgumentException e) { Console.Error.WriteLine($"casebook: {a.Positional[0]} with mask {a.Positional[1]}: {e.Message}"); return 1; }

        if (json)
        {
            var obj = new JsonObject();
            foreach (var (k, v) in features.OrderBy(p => p.Key, StringComparer.Ordinal))
                obj[k] = double.IsFinite(v) ? JsonValue.Create(v) : null;
            Console.Out.WriteLine(new JsonObject { ["features"] = obj }.ToJsonString(Commands.JsonOut));
        }
        else
        {
            foreach (var (k, v) in features.OrderBy(p => p.Key, StringComparer.Ordinal))
                Console.Out.WriteLine($"{k,-48} {v.ToString("G6", CultureInfo.InvariantCulture)}");
            Console.Out.WriteLine($"({features.Count} features, configuration {config}, {clock.Elapsed.TotalSeconds:0.00} s)");
        }
        return 0;
    }
}
