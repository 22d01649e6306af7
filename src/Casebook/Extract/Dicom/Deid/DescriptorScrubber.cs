using System.Text.RegularExpressions;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Clean Descriptors (PS3.15 E.3.5) for short descriptors: removes the identifiers this instance itself carries
/// (patient name parts, ids, accession number, institution and physician names, birth date) and patterns that look
/// like dates, phone numbers or record numbers, replacing each with "*". A pattern scrubber, not NLP: free-text
/// narratives are removed by the caller rather than cleaned.
/// </summary>
public sealed partial class DescriptorScrubber
{
    readonly List<string> _terms;

    DescriptorScrubber(List<string> terms) => _terms = terms;

    public static DescriptorScrubber From(DicomDataset top)
    {
        var terms = new List<string>();
        void Add(uint tag, bool split)
        {
            foreach (var v in top.GetStrings(new DicomTag(tag)))
            {
                if (split) terms.AddRange(v.Split(['^', '=', ' ', ','], StringSplitOptions.RemoveEmptyEntries));
                else terms.Add(v.Trim());
            }
        }
        Add(0x00100010, true);  // Patient's Name
        Add(0x00101001, true);  // Other Patient Names
        Add(0x00101005, true);  // Patient's Birth Name
        Add(0x00101060, true);  // Patient's Mother's Birth Name
        Add(0x00080090, true);  // Referring Physician's Name
        Add(0x00081050, true);  // Performing Physician's Name
        Add(0x00081060, true);  // Name of Physician(s) Reading Study
        Add(0x00081070, true);  // Operators' Name
        Add(0x00100020, false); // Patient ID
        Add(0x00101000, false); // Other Patient IDs
        Add(0x00080050, false); // Accession Number
        Add(0x00080080, false); // Institution Name
        Add(0x00100030, false); // Patient's Birth Date
        // Name parts of one or two letters ("A", "J") would scrub ordinary words and are not identifying on their own.
        var kept = terms.Where(t => t.Length >= 3).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(t => t.Length).ToList();
        return new DescriptorScrubber(kept);
    }

    public string Scrub(string text)
    {
        var s = text;
        foreach (var t in _terms)
            s = Regex.Replace(s, @"(?<![\p{L}\p{N}])" + Regex.Escape(t) + @"(?![\p{L}\p{N}])", "*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        s = DateLike().Replace(s, "*");
        s = LongNumber().Replace(s, "*");
        return s;
    }

    // 2024-01-31, 31/01/2024, 1.31.24, 20240131
    [GeneratedRegex(@"\b(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))\b")]
    private static partial Regex DateLike();

    // Six or more digits (with optional separators): record numbers, phone numbers.
    [GeneratedRegex(@"\b\d[\d\- ]{4,}\d\b")]
    private static partial Regex LongNumber();
}
