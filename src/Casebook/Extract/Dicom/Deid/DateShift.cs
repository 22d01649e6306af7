using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Casebook.Ingest;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// One consistent date shift per patient (PS3.15 E.3.6, Retain Longitudinal Temporal Information with Modified Dates):
/// days = -(1 + (first 8 bytes of HMAC(date-shift key, issuer + '|' + patient id) mod 365)), so a shift in [-365, -1].
/// Every source of a patient (DICOM, reports, FHIR) calls <see cref="ForPatient"/> with the same key, issuer and id,
/// so intervals between that patient's events are preserved while absolute dates are not.
/// Times of day are unchanged (whole-day shift).
/// </summary>
public readonly record struct DateShift(int Days)
{
    public const int MaxDays = 365;

    public static DateShift ForPatient(PatientPseudonym key, string issuer, string patientId)
    {
        ArgumentNullException.ThrowIfNull(key);
        var mac = HMACSHA256.HashData(key.DeriveKey("date-shift"), Encoding.UTF8.GetBytes(issuer + "|" + patientId));
        var n = BinaryPrimitives.ReadUInt64BigEndian(mac);
        return new DateShift(-(int)(1 + n % MaxDays));
    }

    public DateOnly Apply(DateOnly date) => date.AddDays(Days);
    public DateTime Apply(DateTime dateTime) => dateTime.AddDays(Days);

    /// <summary>Shifts a DA value (PS3.5 Table 6.2-1: YYYYMMDD; the retired "YYYY.MM.DD" form is accepted). Null when not a date.</summary>
    public string? ShiftDA(string value)
    {
        var v = value.Trim().Replace(".", "");
        if (v.Length != 8 || !DateOnly.TryParseExact(v, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return null;
        return Apply(d).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
    }

    /// <summary>Shifts the date part of a DT value (YYYY[MM[DD[HH...]]][&amp;ZZXX]); partial dates keep their precision.</summary>
    public string? ShiftDT(string value)
    {
        var v = value.Trim();
        if (v.Length < 4 || !v[..4].All(char.IsAsciiDigit)) return null;
        if (v.Length < 8 || !v[..8].All(char.IsAsciiDigit))
        {
            // Year or year-month only: shift the first day of that period and keep the same precision.
            var monthKnown = v.Length >= 6 && v[4..6].All(char.IsAsciiDigit);
            var start = new DateOnly(int.Parse(v[..4], CultureInfo.InvariantCulture), monthKnown ? Math.Clamp(int.Parse(v[4..6], CultureInfo.InvariantCulture), 1, 12) : 1, 1);
            var s = Apply(start);
            return monthKnown ? s.ToString("yyyyMM", CultureInfo.InvariantCulture) + v[6..] : s.ToString("yyyy", CultureInfo.InvariantCulture) + v[4..];
        }
        var date = ShiftDA(v[..8]);
        return date == null ? null : date + v[8..];
    }

    /// <summary>Shifts every value of a multi-valued DA or DT string ('\' separated); values that do not parse are dropped.</summary>
    public string ShiftValues(string raw, bool dateTime)
    {
        var parts = raw.Split('\\');
        var shifted = new List<string>(parts.Length);
        foreach (var p in parts)
        {
            var t = p.Trim(' ', '\0');
            if (t.Length == 0) { shifted.Add(""); continue; }
            // DA may be a range query form "A-B" in some objects; shift both ends.
            if (!dateTime && t.Contains('-'))
            {
                var ends = t.Split('-');
                for (var i = 0; i < ends.Length; i++) ends[i] = ends[i].Length == 0 ? "" : ShiftDA(ends[i]) ?? "";
                shifted.Add(string.Join('-', ends));
                continue;
            }
            var r = dateTime ? ShiftDT(t) : ShiftDA(t);
            if (r != null) shifted.Add(r);
        }
        return string.Join('\\', shifted);
    }
}
