using System.Globalization;
using System.Runtime.CompilerServices;

namespace Casebook.Tests.Extract.Radiomics.Texture;

/// <summary>One row of ibsi1_texture_reference.csv: the IBSI manual's benchmark value for a feature on a data set.</summary>
public sealed record TextureReferenceValue(string Key, string Data, double Value, double Tolerance)
{
    public bool Matches(double computed) => Math.Abs(computed - Value) <= Tolerance;

    /// <summary>The family tag (cm, rlm, szm, dzm, ngt, ngl) and the aggregation part of the key, for the report.</summary>
    public string Family => Key[..Key.IndexOf('_')];

    public string Aggregation
    {
        get
        {
            foreach (var a in new[] { "2d_avg", "2d_s_mrg", "2.5d_d_mrg", "2.5d_v_mrg", "3d_avg", "3d_v_mrg", "2.5d", "2d", "3d" })
                if (Key.EndsWith("_" + a, StringComparison.Ordinal)) return a;
            return "?";
        }
    }
}

public static class TextureReference
{
    /// <summary>
    /// Reads the reference file beside this source file (it is test data we transcribed from the manual, not shared
    /// data). A missing tolerance means the manual published none: the value is then held to half a unit of its third
    /// significant digit, the precision the manual prints.
    /// </summary>
    public static IReadOnlyList<TextureReferenceValue> Load(string data, [CallerFilePath] string here = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(here)!, "ibsi1_texture_reference.csv");
        if (!File.Exists(path)) throw new FileNotFoundException($"texture reference values missing: {path}");
        var rows = new List<TextureReferenceValue>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('#') || line.StartsWith("key,", StringComparison.Ordinal) || line.Length == 0) continue;
            var f = line.Split(',');
            if (f[1] != data) continue;
            var value = double.Parse(f[2], CultureInfo.InvariantCulture);
            var tolerance = f[3].Length > 0 ? double.Parse(f[3], CultureInfo.InvariantCulture) : ThirdDigit(value);
            rows.Add(new TextureReferenceValue(f[0], f[1], value, tolerance));
        }
        return rows;
    }

    static double ThirdDigit(double value) =>
        value == 0 ? 1e-9 : 0.5 * Math.Pow(10, Math.Floor(Math.Log10(Math.Abs(value))) - 2) * (1 + 1e-9);
}
