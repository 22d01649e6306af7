using System.Globalization;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Which PS3.15 Annex E profile options apply on top of the Basic Application Level Confidentiality Profile (E.1).
/// The defaults are what ingest stores: modified dates (one shift per patient) and cleaned descriptors; no device
/// identity; no private attributes. Each option changes the Table E.1-1 rows its column names (E.3) and is recorded
/// in (0012,0063)/(0012,0064) with its PS3.16 CID 7050 code.
/// </summary>
public sealed record DeidOptions
{
    /// <summary>E.3.6 Retain Longitudinal Temporal Information with Modified Dates (113107): dates shifted by <see cref="DateShift.ForPatient"/>.</summary>
    public bool RetainLongitudinalModifiedDates { get; init; } = true;
    /// <summary>E.3.5 Clean Descriptors (113105): short descriptors (Study/Series Description, Protocol Name, ...) are kept after
    /// known identifiers and date/number patterns are scrubbed; free-text narratives (LT/ST/UT) are still removed.</summary>
    public bool CleanDescriptors { get; init; } = true;
    /// <summary>E.3.8 Retain Device Identity (113109): Station Name, serial numbers and device ids are kept only under this option.</summary>
    public bool RetainDeviceIdentity { get; init; }
    /// <summary>E.3.11 Retain Institution Identity (113112): institution name/address/department and clinical trial site are kept.</summary>
    public bool RetainInstitutionIdentity { get; init; }
    /// <summary>E.3.7 Retain Patient Characteristics (113108): sex, age, size, weight, ethnic group, smoking and pregnancy status are kept;
    /// allergies, pre-medication, special needs and patient state are cleaned (text scrubbed, narratives removed).</summary>
    public bool RetainPatientCharacteristics { get; init; }
    /// <summary>E.3.9 Retain UIDs (113110): UIDs are kept as they were instead of remapped. Ingest never uses it (study ids are remapped UIDs).</summary>
    public bool RetainUids { get; init; }
    /// <summary>E.3.4 Clean Structured Content (113104): Content Sequence (SR), Acquisition Context and Specimen Preparation Sequences are kept with
    /// the profile applied inside them and their text cleaned, instead of replaced by an empty sequence.</summary>
    public bool CleanStructuredContent { get; init; }
    /// <summary>E.3.3 Clean Graphics (113103): overlays (60xx), curves (50xx) and Graphic Annotation Sequence are kept with their text removed or cleaned
    /// (graphic objects and overlay bitmaps stay); without it they are removed.</summary>
    public bool CleanGraphics { get; init; }
    /// <summary>E.3.10 Retain Safe Private (113111): private attributes on this list are kept; every other private attribute is removed.</summary>
    public IReadOnlyList<SafePrivateTag> SafePrivateTags { get; init; } = [];
    /// <summary>Issuer of the patient id, for the pseudonym and the date shift; null = <c>StudyManifest.DefaultIssuer</c> ("local"), as other ingest sources use.</summary>
    public string? Issuer { get; init; }
    /// <summary>Rectangles blanked (stored value 0) in every frame, e.g. where burned-in text was found. Compressed pixel data is decoded and written uncompressed to do so.</summary>
    public IReadOnlyList<PixelRegion> MaskRegions { get; init; } = [];
    /// <summary>Burned-in text detection by OCR of the image borders (and masking of what it finds); null = header flag only.</summary>
    public BurnedInTextOptions? BurnedInText { get; init; }

    public static DeidOptions Default { get; } = new();
}

/// <summary>A rectangle in pixel coordinates (columns x, rows y).</summary>
public readonly record struct PixelRegion(int X, int Y, int Width, int Height);

/// <summary>
/// One entry of the private-tag safe list. With a creator, it matches (gggg,xxEE) in any block reserved by that
/// private creator (PS3.5 §7.8.1), whatever xx is; without one, it matches the exact tag.
/// </summary>
public sealed record SafePrivateTag(ushort Group, ushort Element, string? Creator = null)
{
    /// <summary>Parses "0019,100A", "(0019,100A)", or "CREATOR/0019,xx0A" (also "CREATOR/0019,100A").</summary>
    public static SafePrivateTag Parse(string text)
    {
        string? creator = null;
        var t = text.Trim();
        var slash = t.LastIndexOf('/');
        if (slash >= 0) { creator = t[..slash].Trim(); t = t[(slash + 1)..]; }
        t = t.Trim('(', ')', ' ').Replace(",", "");
        if (t.Length != 8) throw new FormatException($"'{text}' is not a tag (gggg,eeee)");
        var group = ushort.Parse(t[..4], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var el = t[4..].Replace("xx", "00", StringComparison.OrdinalIgnoreCase).Replace("XX", "00");
        var element = ushort.Parse(el, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if ((group & 1) == 0) throw new FormatException($"'{text}' is not a private tag (odd group)");
        return new SafePrivateTag(group, element, creator);
    }

    public bool Matches(DicomTag tag, string? creator) => Creator == null
        ? tag.Group == Group && tag.Element == Element
        : tag.Group == Group && (tag.Element & 0xFF) == (Element & 0xFF) && string.Equals(Creator, creator?.Trim(), StringComparison.Ordinal);
}
