using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Extract.Anatomy;
using Casebook.Extract.Volumes;

namespace Casebook.Cli;

/// <summary>
/// <c>anatomy IMAGE [--model NAME --models FILE] [--json]</c>: anatomy found in a CT volume without a database — the
/// rule masks (body, lungs, bone), or a registered ONNX segmentation model's labels. Exit 1 when the file cannot be read.
/// </summary>
public static class AnatomyCommands
{
    public const string Usage = "anatomy IMAGE [--model NAME --models models.json] [--json]   body, lungs, bone (rule masks) or a segmentation model's structures in a CT volume (NIfTI)";

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args, new HashSet<string> { "json" });
        if (a.Positional.Count != 1) throw new UsageException("usage: " + Usage);
        var file = a.Positional[0];
        var modelName = a.Get("model");
        var modelsFile = a.Get("models");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        if (modelName != null && modelsFile == null) throw new UsageException("--model needs --models FILE (the models.json that registers it)");

        ImageVolume volume;
        try { volume = NiftiReader.Read(file); }
        catch (Exception e) when (e is VolumeFormatException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"casebook: anatomy: {e.Message}");
            return 1;
        }

        IReadOnlyList<AnatomyStructure> structures;
        string source;
        string? modelId = null;
        if (modelName != null)
        {
            using var model = ModelRegistry.Load(modelsFile!).CreateSegmentationModel(modelName);
            structures = model.Segment(volume);
            source = model.Source;
            modelId = model.ModelId;
        }
        else
        {
            structures = CtRuleMasks.Compute(volume);
            source = CtRuleMasks.Source;
        }

        // The same entry shape as a study's anatomical_regions.
        var study = new Casebook.Model.StudyRecord { StudyId = "-", PatientPseudoId = "-" };
        StudyAnatomy.AddFromPixels(study, source, null, volume, structures, modelId);
        if (json)
        {
            stdout.WriteLine(new JsonObject { ["file"] = file, ["structures"] = study.AnatomicalRegions.DeepClone() }.ToJsonString(Commands.JsonOut));
            return 0;
        }
        foreach (var s in structures)
            stdout.WriteLine($"{s.Name,-12} {s.VolumeMl,10:F1} mL  {s.VoxelCount,9} voxels  mean {s.MeanHu,7:F0} HU  ({s.Source})");
        return 0;
    }
}
