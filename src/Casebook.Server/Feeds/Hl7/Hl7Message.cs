using System.Globalization;
using System.Text;

namespace Casebook.Server.Feeds.Hl7;

/// <summary>A message that cannot be read as HL7 v2: the reason names the segment and field; the ACK carries it (AR or AE).</summary>
public sealed class Hl7Exception(string message, string errorCode = Hl7Exception.RequiredFieldMissing, bool reject = false) : Exception(message)
{
    // HL7 table 0357 (message error condition codes).
    public const string SegmentSequence = "100", RequiredFieldMissing = "101", DataType = "102", UnsupportedMessageType = "200",
        UnsupportedEvent = "201", UnsupportedVersion = "203", UnknownKey = "204", ApplicationError = "207";
    public string ErrorCode { get; } = errorCode;
    /// <summary>True: the message as a whole is refused (MSA-1 AR); false: it was understood but could not be applied (AE).</summary>
    public bool Reject { get; } = reject;
}

/// <summary>The delimiters of one message (HL7 v2 §2.5.4: MSH-1 field separator, MSH-2 component, repetition, escape, subcomponent).</summary>
public sealed record Hl7Delimiters(char Field, char Component, char Repetition, char Escape, char Subcomponent)
{
    public static readonly Hl7Delimiters Default = new('|', '^', '~', '\\', '&');
}

/// <summary>One segment: its id and raw fields, numbered as the standard numbers them (MSH-1 is the field separator itself).</summary>
public sealed class Hl7Segment(string id, string[] fields, Hl7Delimiters delimiters)
{
    public string Id { get; } = id;
    readonly string[] _fields = fields; // _fields[n] = field n; _fields[0] = the segment id

    public int FieldCount => _fields.Length - 1;

    /// <summary>The raw (still escaped) text of field <paramref name="n"/>, "" when absent.</summary>
    public string Raw(int n) => n > 0 && n < _fields.Length ? _fields[n] : "";

    /// <summary>Repetitions of field <paramref name="n"/> (raw, each still escaped).</summary>
    public IReadOnlyList<string> Repetitions(int n) => Id == "MSH" && n <= 2 ? [Raw(n)] : Raw(n).Split(delimiters.Repetition);

    /// <summary>
    /// The unescaped value of field n, repetition r (0-based), component c, subcomponent s (1-based, as written "PID-3.4.1").
    /// Missing parts give "".
    /// </summary>
    public string Get(int n, int component = 1, int subcomponent = 1, int repetition = 0)
    {
        if (Id == "MSH" && n <= 2) return Raw(n);
        var reps = Repetitions(n);
        if (repetition >= reps.Count) return "";
        var comps = reps[repetition].Split(delimiters.Component);
        if (component - 1 >= comps.Length) return "";
        var subs = comps[component - 1].Split(delimiters.Subcomponent);
        return subcomponent - 1 < subs.Length ? Hl7Message.Unescape(subs[subcomponent - 1], delimiters) : "";
    }
}

/// <summary>
/// A hand-written HL7 v2 reader (v2.1–v2.9 ER7 encoding): the delimiters come from MSH-1/MSH-2; segments end at CR (LF and CRLF
/// are tolerated); fields, repetitions, components and subcomponents are split lazily and unescaped on access (§2.7 escapes:
/// \F\ \S\ \T\ \R\ \E\, \Xhh..\ hex, \.br\ line break; highlighting and character-set escapes are dropped).
/// </summary>
public sealed class Hl7Message
{
    public Hl7Delimiters Delimiters { get; }
    public IReadOnlyList<Hl7Segment> Segments { get; }
    public Hl7Segment Msh => Segments[0];

    Hl7Message(Hl7Delimiters delimiters, List<Hl7Segment> segments) { Delimiters = delimiters; Segments = segments; }

    /// <summary>MSH-9.1 (ORU, ADT, ...), MSH-9.2 (R01, A08, ...), MSH-10 control id, MSH-12 version.</summary>
    public string MessageType => Msh.Get(9, 1);
    public string TriggerEvent => Msh.Get(9, 2);
    public string ControlId => Msh.Get(10);
    public string Version => Msh.Get(12);
    /// <summary>Who sent it: MSH-3 application @ MSH-4 facility (the audit's actor).</summary>
    public string Sender => $"{Msh.Get(3)}@{Msh.Get(4)}";

    public IEnumerable<Hl7Segment> All(string id) => Segments.Where(s => s.Id == id);
    public Hl7Segment? First(string id) => Segments.FirstOrDefault(s => s.Id == id);

    /// <summary>Decodes the bytes of one framed message: the charset named in MSH-18 (ASCII/UTF-8 by default, 8859/1 → Latin-1).</summary>
    public static Hl7Message Parse(ReadOnlySpan<byte> bytes)
    {
        var latin = Encoding.Latin1.GetString(bytes);
        var probe = Parse(latin);
        var charset = probe.Msh.Get(18).Trim().ToUpperInvariant();
        if (charset is "8859/1" or "ISO IR100" or "ISO_IR 100") return probe;
        return Parse(new UTF8Encoding(false, false).GetString(bytes));
    }

    public static Hl7Message Parse(string text)
    {
        text = text.Trim('\r', '\n', ' ', '\t', '\0');
        if (!text.StartsWith("MSH", StringComparison.Ordinal))
            throw new Hl7Exception("the message does not start with an MSH segment", Hl7Exception.SegmentSequence, reject: true);
        if (text.Length < 8) throw new Hl7Exception("MSH is too short to hold its delimiters (MSH-1, MSH-2)", Hl7Exception.RequiredFieldMissing, reject: true);
        var field = text[3];
        var end = text.IndexOf(field, 4);
        var enc = end > 4 ? text[4..end] : "";
        if (enc.Length < 4 || char.IsLetterOrDigit(field) || enc.Any(char.IsLetterOrDigit))
            throw new Hl7Exception($"MSH-2: '{enc}' is not a set of encoding characters (component, repetition, escape, subcomponent)", Hl7Exception.DataType, reject: true);
        var d = new Hl7Delimiters(field, enc[0], enc[1], enc[2], enc[3]);
        var segments = new List<Hl7Segment>();
        foreach (var line in text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length < 3) throw new Hl7Exception($"segment {segments.Count + 1}: '{line}' is not a segment (a 3-character id first)", Hl7Exception.SegmentSequence);
            var id = line[..3];
            if (!id.All(ch => char.IsAsciiLetterUpper(ch) || char.IsAsciiDigit(ch)))
                throw new Hl7Exception($"segment {segments.Count + 1}: '{id}' is not a segment id", Hl7Exception.SegmentSequence);
            string[] fields;
            if (id == "MSH")
            {
                // MSH-1 is the separator itself and MSH-2 the encoding characters: splitting after "MSH|" shifts the rest by one.
                var rest = line.Length > 4 ? line[4..].Split(field) : [];
                fields = ["MSH", field.ToString(), .. rest];
            }
            else fields = line.Length > 3 && line[3] == field ? ["" + id, .. line[4..].Split(field)] : [id];
            segments.Add(new Hl7Segment(id, fields, d));
        }
        if (segments[0].Id != "MSH") throw new Hl7Exception("the first segment is not MSH", Hl7Exception.SegmentSequence, reject: true);
        return new Hl7Message(d, segments);
    }

    /// <summary>HL7 v2 §2.7 escape sequences.</summary>
    public static string Unescape(string value, Hl7Delimiters d)
    {
        if (value.IndexOf(d.Escape) < 0) return value;
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var ch = value[i];
            var close = ch == d.Escape ? value.IndexOf(d.Escape, i + 1) : -1;
            if (close < 0) { sb.Append(ch); continue; }
            var seq = value[(i + 1)..close];
            switch (seq)
            {
                case "F": sb.Append(d.Field); break;
                case "S": sb.Append(d.Component); break;
                case "T": sb.Append(d.Subcomponent); break;
                case "R": sb.Append(d.Repetition); break;
                case "E": sb.Append(d.Escape); break;
                case ".br": sb.Append('\n'); break;
                case "H" or "N": break; // highlighting on/off
                default:
                    if (seq.Length > 1 && seq[0] == 'X' && seq.Length % 2 == 1)
                    {
                        for (var k = 1; k + 1 < seq.Length; k += 2)
                            if (byte.TryParse(seq.AsSpan(k, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b)) sb.Append((char)b);
                    }
                    else if (seq.StartsWith(".sp", StringComparison.Ordinal)) sb.Append('\n');
                    // \Cxxyy\, \Mxxyyzz\ (character-set switches) and other formatting commands carry no text.
                    break;
            }
            i = close;
        }
        return sb.ToString();
    }

    /// <summary>Escapes text for a field of an outgoing message (the ACK's error text).</summary>
    public static string Escape(string value, Hl7Delimiters d)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var ch in value)
        {
            if (ch == d.Escape) sb.Append(d.Escape).Append('E').Append(d.Escape);
            else if (ch == d.Field) sb.Append(d.Escape).Append('F').Append(d.Escape);
            else if (ch == d.Component) sb.Append(d.Escape).Append('S').Append(d.Escape);
            else if (ch == d.Subcomponent) sb.Append(d.Escape).Append('T').Append(d.Escape);
            else if (ch == d.Repetition) sb.Append(d.Escape).Append('R').Append(d.Escape);
            else if (ch is '\r' or '\n') sb.Append(' ');
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    /// <summary>An HL7 date/time (DTM: YYYY[MM[DD[HH[MM[SS]]]]][+/-ZZZZ]) as a date; partial dates take the middle of what they leave open.</summary>
    public static DateOnly? ParseDate(string value)
    {
        var v = value.Trim();
        var digits = new string(v.TakeWhile(char.IsAsciiDigit).ToArray());
        if (digits.Length < 4 || !int.TryParse(digits[..4], out var year) || year < 1800 || year > 2200) return null;
        var month = digits.Length >= 6 && int.TryParse(digits[4..6], out var m) && m is >= 1 and <= 12 ? m : 7;
        var day = digits.Length >= 8 && int.TryParse(digits[6..8], out var dd) && dd >= 1 && dd <= DateTime.DaysInMonth(year, month) ? dd : digits.Length >= 6 ? 15 : 1;
        return new DateOnly(year, month, day);
    }
}
