using System.Globalization;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Which PS3.15 Annex E profile options apply on top of the Basic Application Level Confidentiality Profile (E.1).
/// The defaults are what ingest stores: modified dates (one shift per patient) and cleaned descriptors; no device
/// identity; no private attributes.
/// </summary>
public sealed record DeidOptions
{
    /// <summary>E.3.6 Retain Longitudinal Temporal Information with Modified Dates: dates shifted by <see cref="DateShift.ForPatient"/>.</summary>
    public bool RetainLongitudinalModifiedDates { get; init; } = true;
    /// <summary>E.3.5 Clean Descriptors: short descriptors (Study/Series Description, Protocol Name, ...) are kept after
    /// known identifiers and date/number patterns are scrubbed; free-text narratives (LT/ST/UT) are still removed.</summary>
    public bool CleanDescriptors { get; init; } = true;
    /// <summary>E.3.3 Retain Device Identity: Station Name, serial numbers and device ids are kept only under this option.</summary>
    public bool RetainDeviceIdentity { get; init; }
    /// <summary>E.3.10 Retain Safe Private: private attributes on this list are kept; every other private attribute is removed.</summary>
    public IReadOnlyList<SafePrivateTag> SafePrivateTags { get; init; } = [];
    /// <summary>Issuer of the patient id, for the pseudonym and the date shift; null = <c>StudyManifest.DefaultIssuer</c> ("local"), as other ingest sources use.</summary>
    public string? Issuer { get; init; }
    /// <summary>Rectangles blanked (set to 0) in every frame of native pixel data, e.g. where burned-in text was found. Encapsulated pixel data is not masked (reported in the result).</summary>
    public IReadOnlyList<PixelRegion> MaskRegions { get; init; } = [];

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

    internal bool Matches(DicomTag tag, string? creator) => Creator == null
        ? tag.Group == Group && tag.Element == Element
        : tag.Group == Group && (tag.Element & 0xFF) == (Element & 0xFF) && string.Equals(Creator, creator?.Trim(), StringComparison.Ordinal);
}
