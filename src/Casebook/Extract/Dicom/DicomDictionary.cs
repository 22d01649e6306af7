using System.Collections.Frozen;

namespace Casebook.Extract.Dicom;

/// <summary>One registry row of PS3.6 (or PS3.7): tag, VR (e.g. "US or SS"), VM, name, keyword, retired.</summary>
public sealed record DicomDictionaryEntry(uint Tag, string VR, string VM, string Name, string Keyword, bool Retired)
{
    /// <summary>The first VR of an ambiguous "US or SS" style entry.</summary>
    public DicomVR PrimaryVR { get; } = VR.Length >= 2 ? DicomVR.From(VR[0], VR[1]) : DicomVR.UN; // computed once: the implicit VR parser asks per element
    public bool IsAmbiguous => VR.Length > 2;
}

/// <summary>The standard data dictionary (generated from PS3.6, see DicomDictionary.Generated.cs).</summary>
public static partial class DicomDictionary
{
    // A nested holder: its initialiser runs after the generated arrays (field order across partial files is unspecified).
    static class Index
    {
        internal static readonly FrozenDictionary<uint, DicomDictionaryEntry> ByTag = Entries.ToFrozenDictionary(e => e.Tag);
        internal static readonly FrozenDictionary<string, DicomDictionaryEntry> ByKeyword =
            Entries.Concat(Repeaters.Select(r => r.Entry)).Where(e => e.Keyword.Length > 0)
                   .GroupBy(e => e.Keyword).ToFrozenDictionary(g => g.Key, g => g.First());
        internal static readonly (uint Mask, uint Value, DicomDictionaryEntry Entry)[] RepeaterMasks =
            Repeaters.Select(r => (MaskOf(r.Mask), r.Entry.Tag, r.Entry)).ToArray();
    }

    static uint MaskOf(string mask)
    {
        uint m = 0;
        foreach (var c in mask) m = (m << 4) | (c == 'x' ? 0u : 0xFu);
        return m;
    }

    public static int Count => Entries.Length;

    /// <summary>Looks a standard tag up, including repeating groups (50xx, 60xx, ...). Private tags are not in it.</summary>
    public static DicomDictionaryEntry? Lookup(DicomTag tag)
    {
        if (Index.ByTag.TryGetValue(tag.Value, out var e)) return e;
        if (tag.IsPrivate) return null;
        foreach (var (mask, value, entry) in Index.RepeaterMasks)
            if ((tag.Value & mask) == value) return entry;
        return null;
    }

    public static DicomDictionaryEntry? Lookup(string keyword) => Index.ByKeyword.GetValueOrDefault(keyword);

    public static string KeywordOf(DicomTag tag) => Lookup(tag)?.Keyword ?? "";
}
