using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Casebook.Extract.Dicom;

/// <summary>
/// The <c>dicom dump --json</c> shape: <c>{"transfer_syntax", "elements":[{"tag","vr","keyword","value"}]}</c>.
/// value: a scalar when VM is 1 (numbers as numbers, PN as the decoded Family^Given^... string), a list when VM &gt; 1,
/// null when empty; sequences as <c>"items":[[...]]</c>; binary values (OB, OD, OF, OL, OV, OW, UN, pixel data) as <c>{"length":N}</c>.
/// Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
/// </summary>
public static class DicomJson
{
    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    public static string Dump(DicomFile file, bool indented = false)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, WriterOptions with { Indented = indented })) Write(file, w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public static void Write(DicomFile file, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("transfer_syntax", file.TransferSyntax.Uid);
        w.WriteStartArray("elements");
        foreach (var e in file.Meta) WriteElement(e, w);
        foreach (var e in file.Dataset) WriteElement(e, w);
        w.WriteEndArray();
        if (file.Problems.Count > 0)
        {
            w.WriteStartArray("errors");
            foreach (var p in file.Problems)
            {
                w.WriteStartObject();
                w.WriteString("message", p.Message);
                w.WriteNumber("offset", p.Offset);
                if (p.Tag is { } t) w.WriteString("tag", t.ToString()); else w.WriteNull("tag");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (file.Warnings.Count > 0)
        {
            w.WriteStartArray("warnings");
            foreach (var s in file.Warnings) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    public static void WriteElement(DicomElement e, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("tag", e.Tag.ToString());
        w.WriteString("vr", e.VR.ToString());
        w.WriteString("keyword", e.Keyword);
        if (e.Items != null)
        {
            w.WriteStartArray("items");
            foreach (var item in e.Items)
            {
                w.WriteStartArray();
                foreach (var child in item) WriteElement(child, w);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        else
        {
            w.WritePropertyName("value");
            WriteValue(e, w);
        }
        w.WriteEndObject();
    }

    static void WriteValue(DicomElement e, Utf8JsonWriter w)
    {
        var kind = DicomVR.Kind(e.VR);
        if (e.Fragments != null || kind is DicomVR.VRKind.Binary or DicomVR.VRKind.Unknown or DicomVR.VRKind.Sequence)
        {
            w.WriteStartObject();
            w.WriteNumber("length", e.Length);
            w.WriteEndObject();
            return;
        }
        object[] values = kind switch
        {
            DicomVR.VRKind.Text => e.GetStrings(),
            DicomVR.VRKind.Tag => e.GetTags().Select(t => (object)t.ToString()).ToArray(),
            _ => e.GetNumbers(),
        };
        if (values.Length == 0) { w.WriteNullValue(); return; }
        if (values.Length == 1) { WriteScalar(values[0], w); return; }
        w.WriteStartArray();
        foreach (var v in values) WriteScalar(v, w);
        w.WriteEndArray();
    }

    static void WriteScalar(object v, Utf8JsonWriter w)
    {
        switch (v)
        {
            case string s when s.Length == 0: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case long l: w.WriteNumberValue(l); break;
            case ulong u: w.WriteNumberValue(u); break;
            case double d when double.IsNaN(d): w.WriteStringValue("NaN"); break;
            case double d when double.IsPositiveInfinity(d): w.WriteStringValue("Infinity"); break;
            case double d when double.IsNegativeInfinity(d): w.WriteStringValue("-Infinity"); break;
            case double d: w.WriteNumberValue(d); break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }
}
