using System.Globalization;
using System.Text.Json.Nodes;

namespace Casebook.Ingest;

/// <summary>
/// De-identified demographics and descriptive metadata from manifest columns: age becomes a 5-year band
/// with 90+ grouped (HIPAA Safe Harbor), sex is normalised to M/F/O/U, identifying columns are refused.
/// </summary>
public static class Demographics
{
    static readonly HashSet<string> Identifying = ["patient_name", "name", "birth_date", "dob", "date_of_birth", "address", "phone", "mrn", "ssn", "email"];

    public static void AddToMetadata(JsonObject metadata, string column, string value)
    {
        switch (column)
        {
            case "age":
                metadata["age_band"] = AgeBand(value) ?? throw new InvalidDataException($"column age: '{value}' is not an age in years");
                break;
            case "sex":
                metadata["sex"] = value.Trim().ToUpperInvariant() switch
                {
                    "M" or "MALE" => "M", "F" or "FEMALE" => "F", "O" or "OTHER" => "O", _ => "U",
                };
                break;
            default:
                if (Identifying.Contains(column)) return; // never stored: identifiers stay with the source system
                metadata[column] = value;
                break;
        }
    }

    /// <summary>"40-44" style bands; 90 and over are "90+".</summary>
    public static string? AgeBand(string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var age) || age < 0 || age > 150) return null;
        if (age >= 90) return "90+";
        var low = (int)age / 5 * 5;
        return $"{low}-{low + 4}";
    }
}
