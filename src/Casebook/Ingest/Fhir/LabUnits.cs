using System.Globalization;
using Fhir.Metrics;

namespace Casebook.Ingest.Fhir;

/// <summary>A value in UCUM canonical form: base units (g, m, s, mol as counts…) or, for HbA1c, IFCC mmol/mol.</summary>
public readonly record struct CanonicalQuantity(double Value, string Unit);

/// <summary>
/// Normalises lab and vital values to UCUM canonical units with Fhir.Metrics before any comparison, so that thresholds
/// hold across sites (mg/dL and g/L of one analyte compare; mmol/L and mg/dL do not, since UCUM cannot know the molar mass).
/// Two conversions UCUM cannot express are done explicitly:
/// <list type="bullet">
/// <item>HbA1c: % (NGSP/DCCT) and mmol/mol (IFCC) measure different things and are related by the IFCC–NGSP master
/// equation NGSP% = 0.09148 × IFCC + 2.152 (Hoelzel et al., Clin Chem 2004); both go to IFCC mmol/mol.</item>
/// <item>Temperatures (Cel, [degF]) are offset units that Fhir.Metrics refuses: they go to kelvin.</item>
/// </list>
/// </summary>
public static class LabUnits
{
    public const string IfccUnit = "mmol/mol";
    // LOINC codes of HbA1c (NGSP % methods and the IFCC protocol).
    static readonly HashSet<string> HbA1cCodes = ["4548-4", "17856-6", "4549-2", "17855-8", "59261-8", "62388-4", "71875-9"];
    static readonly Lazy<SystemOfUnits> Ucum = new(UCUM.Load, LazyThreadSafetyMode.ExecutionAndPublication);
    static readonly object Gate = new(); // Fhir.Metrics' parser is not documented as thread-safe
    // Non-offset UCUM units are linear: canonical(v, u) = v × canonical(1, u). Parsing a unit costs far more than a multiply.
    static readonly Dictionary<string, CanonicalQuantity?> Factors = new(StringComparer.Ordinal);

    public static bool IsHbA1c(string? loinc, string? display) =>
        (loinc != null && HbA1cCodes.Contains(loinc)) || (display != null && display.Contains("A1c", StringComparison.OrdinalIgnoreCase));

    /// <summary>IFCC mmol/mol from NGSP % (master equation).</summary>
    public static double NgspToIfcc(double percent) => (percent - 2.152) / 0.09148;
    public static double IfccToNgsp(double mmolPerMol) => 0.09148 * mmolPerMol + 2.152;

    /// <summary>The canonical form of <paramref name="value"/> <paramref name="unit"/> (a UCUM code); null when the unit is not UCUM or cannot be converted.</summary>
    public static CanonicalQuantity? Canonical(double value, string? unit, string? loinc = null, string? display = null)
    {
        if (string.IsNullOrWhiteSpace(unit)) return null;
        unit = unit.Trim();
        if (IsHbA1c(loinc, display))
        {
            if (unit == "%") return new CanonicalQuantity(Math.Round(NgspToIfcc(value), 3), IfccUnit);
            if (unit == IfccUnit) return new CanonicalQuantity(value, IfccUnit);
        }
        switch (unit)
        {
            case "Cel": return new CanonicalQuantity(value + 273.15, "K");
            case "[degF]": return new CanonicalQuantity((value - 32) * 5 / 9 + 273.15, "K");
            case "K": return new CanonicalQuantity(value, "K");
        }
        CanonicalQuantity? factor;
        lock (Gate)
            if (!Factors.TryGetValue(unit, out factor)) Factors[unit] = factor = UnitFactor(unit);
        return factor is { } f ? new CanonicalQuantity(value * f.Value, f.Unit) : null;
    }

    /// <summary>Canonical form of 1 <paramref name="unit"/>; null when Fhir.Metrics cannot read or convert it. Caller holds <see cref="Gate"/>.</summary>
    static CanonicalQuantity? UnitFactor(string unit)
    {
        try
        {
            var canonical = Ucum.Value.Canonical(Ucum.Value.Quantity("1", unit));
            var symbols = canonical.Metric.ToString();
            return new CanonicalQuantity(canonical.Value.ValueToFloat(), symbols.Length == 0 ? "1" : symbols);
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or FormatException or InvalidOperationException or NotImplementedException or KeyNotFoundException or NullReferenceException)
        {
            return null; // not a UCUM expression the library understands: the original value and unit stay, canonical stays missing
        }
    }
}
