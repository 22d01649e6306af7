namespace Casebook.Extract.Dicom.Pixels;

/// <summary>A named VOI window in modality units (Hounsfield units for CT).</summary>
public readonly record struct WindowPreset(string Name, double Center, double Width);

/// <summary>Named window presets per modality (common radiology defaults).</summary>
public static class WindowPresets
{
    static readonly Dictionary<string, WindowPreset[]> ByModality = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CT"] =
        [
            new("lung", -600, 1500),
            new("mediastinum", 50, 350),
            new("bone", 400, 1800),
            new("brain", 40, 80),
            new("abdomen", 40, 400),
            new("soft-tissue", 50, 400),
            new("liver", 60, 160),
            new("subdural", 75, 215),
            new("stroke", 40, 40),
        ],
    };

    public static IReadOnlyList<WindowPreset> For(string? modality) => modality != null && ByModality.TryGetValue(modality, out var p) ? p : [];

    /// <summary>Finds a preset by name for the modality (any modality when null); throws listing the choices when unknown.</summary>
    public static WindowPreset Get(string name, string? modality = null)
    {
        var candidates = modality != null && ByModality.ContainsKey(modality) ? ByModality[modality] : ByModality.Values.SelectMany(p => p).ToArray();
        foreach (var p in candidates) if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p;
        throw new ArgumentException($"unknown window preset '{name}'{(modality != null ? $" for {modality}" : "")}; known: {string.Join(", ", candidates.Select(p => p.Name))}");
    }
}
