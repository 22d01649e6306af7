using System.Globalization;
using System.Text.RegularExpressions;
using Casebook.Extract.Dicom.Deid;

namespace Casebook.Ingest.Fhir;

/// <summary>
/// A FHIR date/dateTime/instant (R4 §2.24.0.1: YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)) shifted by
/// the patient's whole-day <see cref="DateShift"/>. The shifted value keeps the source's precision and offset: a year-only
/// or month-only date shifts the first day of its period (as DICOM partial DT values do), a date-time keeps its clock time.
/// </summary>
public sealed record FhirTime(string Value, string Precision, DateTimeOffset Start)
{
    static readonly Regex Pattern = new(@"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>UTC start of the period, "yyyy-MM-ddTHH:mm:ssZ": sorts as text.</summary>
    public string SortKey => Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses and shifts; null when <paramref name="raw"/> is not a FHIR date or date-time.</summary>
    public static FhirTime? Shift(string? raw, DateShift shift)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var m = Pattern.Match(raw.Trim());
        if (!m.Success) return null;
        int Part(int g, int fallback) => m.Groups[g].Success ? int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture) : fallback;
        var year = Part(1, 1); var month = Part(2, 1); var day = Part(3, 1);
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)) return null;
        var date = shift.Apply(new DateOnly(year, month, day));
        if (!m.Groups[2].Success) return new FhirTime(date.ToString("yyyy", CultureInfo.InvariantCulture), "year", Utc(date, TimeSpan.Zero));
        if (!m.Groups[3].Success) return new FhirTime(date.ToString("yyyy-MM", CultureInfo.InvariantCulture), "month", Utc(date, TimeSpan.Zero));
        var datePart = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (!m.Groups[4].Success) return new FhirTime(datePart, "day", Utc(date, TimeSpan.Zero));
        var hour = Part(4, 0); var minute = Part(5, 0); var second = Part(6, 0);
        if (hour > 23 || minute > 59 || second > 60) return null;
        var zone = m.Groups[8].Value;
        var offset = zone is "" or "Z" ? TimeSpan.Zero
            : (zone[0] == '-' ? -1 : 1) * new TimeSpan(int.Parse(zone[1..3], CultureInfo.InvariantCulture), int.Parse(zone[4..6], CultureInfo.InvariantCulture), 0);
        var start = new DateTimeOffset(date.Year, date.Month, date.Day, hour, minute, Math.Min(second, 59), offset);
        // Keep the source's clock text (seconds, fraction and zone as written) after the shifted date.
        var raw2 = raw.Trim();
        return new FhirTime(datePart + raw2[10..], "time", start);
    }

    static DateTimeOffset Utc(DateOnly d, TimeSpan offset) => new(d.Year, d.Month, d.Day, 0, 0, 0, offset);

    /// <summary>The shifted calendar date (yyyy-MM-dd) for day or finer precision; null for year or month precision.</summary>
    public string? Date => Precision is "day" or "time" ? Value[..10] : null;
}
