using System.Collections;
using System.Globalization;

namespace Casebook.Extract.Dicom;

/// <summary>
/// A dataset (the top level of a file, or one sequence item), elements in stream order.
/// Specific Character Set is inherited from the enclosing dataset unless an item sets its own (PS3.5 §7.5.3? see PS3.3 C.12.1.1.2).
/// </summary>
public sealed class DicomDataset : IEnumerable<DicomElement>
{
    readonly List<DicomElement> _elements;
    Dictionary<uint, DicomElement>? _index;
    DicomCharacterSet? _charset;

    internal DicomDataset(DicomDataset? parent, bool bigEndian, bool implicitVR, long offset, int capacity = -1)
    {
        Parent = parent; BigEndian = bigEndian; ImplicitVR = implicitVR; Offset = offset;
        // A top-level header has about a hundred elements: start there rather than growing from 4 (items stay small).
        _elements = new List<DicomElement>(capacity >= 0 ? capacity : parent == null ? 64 : 4);
    }

    public DicomDataset? Parent { get; }
    public bool BigEndian { get; }
    public bool ImplicitVR { get; }
    /// <summary>Byte offset of the first element (for items: of the item's content).</summary>
    public long Offset { get; }
    public int Count => _elements.Count;
    public IReadOnlyList<DicomElement> Elements => _elements;

    internal void Add(DicomElement e)
    {
        _elements.Add(e);
        _index?.TryAdd(e.Tag.Value, e);
        if (e.Tag == DicomTag.SpecificCharacterSet) _charset = null;
    }

    internal void RemoveLast()
    {
        var e = _elements[^1];
        _elements.RemoveAt(_elements.Count - 1);
        if (_index != null && _index.TryGetValue(e.Tag.Value, out var x) && x == e) _index.Remove(e.Tag.Value);
    }

    public DicomElement? this[DicomTag tag] => Find(tag);

    /// <summary>The first element with this tag (duplicates in malformed files keep the first).</summary>
    public DicomElement? Find(DicomTag tag)
    {
        if (_elements.Count < 16)
        {
            foreach (var e in _elements) if (e.Tag == tag) return e;
            return null;
        }
        if (_index == null)
        {
            _index = new Dictionary<uint, DicomElement>(_elements.Count);
            foreach (var e in _elements) _index.TryAdd(e.Tag.Value, e);
        }
        return _index.GetValueOrDefault(tag.Value);
    }

    public DicomElement? Find(string keyword) => DicomDictionary.Lookup(keyword) is { } e ? Find(new DicomTag(e.Tag)) : null;
    public bool Contains(DicomTag tag) => Find(tag) != null;

    /// <summary>The character set in force here: this dataset's (0008,0005), else the parent's, else the default repertoire.</summary>
    public DicomCharacterSet CharacterSet
    {
        get
        {
            if (_charset != null) return _charset;
            var own = Find(DicomTag.SpecificCharacterSet);
            // (0008,0005) itself is CS, so it is decoded with the default repertoire.
            _charset = own != null ? DicomCharacterSet.FromTerms(RawTerms(own)) : Parent?.CharacterSet ?? DicomCharacterSet.Default;
            return _charset;
        }
    }

    static string[] RawTerms(DicomElement e)
    {
        // Value 1 may be empty (ISO 2022 with the default repertoire first), so keep empty values here.
        var s = DicomCharacterSet.DecodeDefault(e.RawValue.Span).Split('\\');
        for (var i = 0; i < s.Length; i++) s[i] = s[i].Trim(' ', '\0');
        return s;
    }

    public string? GetString(DicomTag tag) => Find(tag)?.GetString();
    public string[] GetStrings(DicomTag tag) => Find(tag)?.GetStrings() ?? [];
    public double[] GetDoubles(DicomTag tag) => Find(tag)?.GetDoubles() ?? [];
    public double? GetDouble(DicomTag tag) { var d = GetDoubles(tag); return d.Length > 0 && !double.IsNaN(d[0]) ? d[0] : null; }
    public long? GetInteger(DicomTag tag) => GetDouble(tag) is { } d ? (long)d : null;

    /// <summary>PS3.5 §7.8.1: the private creator owning a private tag (gggg,xxyy) is the value of (gggg,00xx).</summary>
    public string? PrivateCreatorOf(DicomTag tag)
    {
        if (!tag.IsPrivate || tag.Element < 0x1000) return null;
        return GetString(new DicomTag(tag.Group, (ushort)(tag.Element >> 8)));
    }

    public IEnumerator<DicomElement> GetEnumerator() => _elements.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal static string Invariant(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
