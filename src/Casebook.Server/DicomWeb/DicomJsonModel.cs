using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;

namespace Casebook.Server.DicomWeb;

/// <summary>
/// The DICOM JSON Model (PS3.18 §F.2): a dataset is an object keyed by the 8-hex-digit tag, each attribute
/// <c>{"vr": "..", "Value": [...]}</c>. PN values are objects with Alphabetic/Ideographic/Phonetic groups (§F.2.2),
/// DS/IS and binary numbers are JSON numbers, AT values are tag strings, sequences hold datasets. Bulk data (pixel data and
/// binary values over <see cref="InlineBinaryMax"/> bytes) is left out of metadata: WADO-RS serves it in the instance itself.
/// </summary>
public static class DicomJsonModel
{
    public const int InlineBinaryMax = 1024;

    public static string Tag(uint tag) => tag.ToString("X8");

    public static JsonObject Dataset(DicomDataset ds)
    {
        var o = new JsonObject();
        foreach (var e in ds)
        {
            if (e.Tag.IsGroupLength || e.Tag.Value is 0xFFFEE000 or 0xFFFEE00D or 0xFFFEE0DD) continue;
            if (Element(e) is { } value) o[Tag(e.Tag.Value)] = value;
        }
        return o;
    }

    static JsonObject? Element(DicomElement e)
    {
        var vr = e.VR;
        var o = new JsonObject { ["vr"] = vr.ToString() };
        if (e.Items != null)
        {
            o["Value"] = new JsonArray(e.Items.Select(i => (JsonNode)Dataset(i)).ToArray());
            return o;
        }
        if (e.Fragments != null || e.Tag == DicomTag.PixelData) return null; // encapsulated/pixel data: bulk data, not metadata
        if (e.Length == 0) return o;
        if (vr.IsBinary)
        {
            if (e.Length > InlineBinaryMax || e.UndefinedLength) return null;
            o["InlineBinary"] = Convert.ToBase64String(e.RawValue.Span);
            return o;
        }
        if (vr == DicomVR.PN) { o["Value"] = new JsonArray(e.GetStrings().Select(PersonName).ToArray()); return o; }
        if (vr == DicomVR.AT) { o["Value"] = new JsonArray(e.GetTags().Select(t => (JsonNode)Tag(t.Value)).ToArray()); return o; }
        if (vr == DicomVR.DS || vr == DicomVR.IS || vr == DicomVR.US || vr == DicomVR.SS || vr == DicomVR.UL || vr == DicomVR.SL
            || vr == DicomVR.FL || vr == DicomVR.FD || vr == DicomVR.SV || vr == DicomVR.UV)
        {
            o["Value"] = new JsonArray(e.GetNumbers().Select(Number).ToArray());
            return o;
        }
        o["Value"] = new JsonArray(e.GetStrings().Select(s => s.Length == 0 ? null : (JsonNode)s).ToArray());
        return o;
    }

    static JsonNode? Number(object n) => n switch
    {
        long l => l,
        ulong u => u,
        double d when double.IsFinite(d) => d,
        double => null,
        string s => s, // a DS/IS that is not a number keeps its text rather than being lost
        _ => null,
    };

    /// <summary>PS3.18 §F.2.2: "Alphabetic=Ideographic=Phonetic" component groups; empty groups left out.</summary>
    public static JsonNode? PersonName(string value)
    {
        if (value.Length == 0) return null;
        var groups = value.Split('=');
        var o = new JsonObject();
        string[] names = ["Alphabetic", "Ideographic", "Phonetic"];
        for (var i = 0; i < Math.Min(3, groups.Length); i++)
            if (groups[i].Length > 0) o[names[i]] = groups[i];
        return o;
    }

    /// <summary>One attribute with string values (or none), as QIDO answers build them.</summary>
    public static JsonObject Attribute(string vr, IEnumerable<string> values)
    {
        var list = values.ToList();
        var o = new JsonObject { ["vr"] = vr };
        if (list.Count == 0) return o;
        o["Value"] = vr switch
        {
            "PN" => new JsonArray(list.Select(PersonName).ToArray()),
            "IS" or "US" or "UL" or "DS" => new JsonArray(list.Select(v => double.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out var d)
                ? (d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (JsonNode)(long)d : d) : v).ToArray()),
            _ => new JsonArray(list.Select(v => v.Length == 0 ? null : (JsonNode)v).ToArray()),
        };
        return o;
    }
}
