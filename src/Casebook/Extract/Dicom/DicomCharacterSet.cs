using System.Text;

namespace Casebook.Extract.Dicom;

/// <summary>
/// Specific Character Set (0008,0005) decoding, PS3.5 §6.1 and PS3.3 C.12.1.1.2. Single-byte and stand-alone
/// multi-byte sets (UTF-8, GB18030, GBK) decode the whole value; ISO 2022 code extensions (PS3.5 §6.1.2.5)
/// are decoded with a G0/G1 state machine that returns to the initial state at control characters and,
/// for PN, at the '^' and '=' delimiters, so each person-name component group decodes on its own.
/// </summary>
public sealed class DicomCharacterSet
{
    /// <summary>One code element (a G0 or G1 set) and how to turn its bytes into text.</summary>
    sealed record CodeElement(string Name, bool IsG1, int BytesPerChar, Func<byte[], string> Decode);

    static readonly EncodingProvider CodePages = CodePagesEncodingProvider.Instance;
    static Encoding Cp(int codePage) => CodePages.GetEncoding(codePage) ?? throw new NotSupportedException($"code page {codePage} missing");

    // Default repertoire (ISO-IR 6, ASCII). Bytes above 7F are not ASCII; read them as Latin-1 rather than lose them (as pydicom does).
    static readonly CodeElement Ascii = new("ISO_IR 6", false, 1, b => Encoding.Latin1.GetString(b));
    static readonly CodeElement JisRomaji = new("ISO_IR 14", false, 1, b => Cp(932).GetString(b));
    static readonly CodeElement JisKatakana = new("ISO_IR 13", true, 1, b => Cp(932).GetString(b));
    // JIS X 0208 / 0212 arrive as 7-bit byte pairs in G0; EUC-JP is the same code points with the high bit set (0212 after SS3 0x8F).
    static readonly CodeElement JisX0208 = new("ISO 2022 IR 87", false, 2, b => Cp(20932).GetString(b.Select(x => (byte)(x | 0x80)).ToArray()));
    // .NET's EUC-JP has no JIS X 0212 plane, so ISO-IR 159 uses a generated table (JisX0212.Generated.cs).
    static readonly CodeElement JisX0212 = new("ISO 2022 IR 159", false, 2, b =>
    {
        var chars = new char[b.Length / 2];
        for (var i = 0; i < chars.Length; i++) chars[i] = Casebook.Extract.Dicom.JisX0212.Decode(b[2 * i], b[2 * i + 1]);
        return new string(chars);
    });
    static readonly CodeElement KsX1001 = new("ISO 2022 IR 149", true, 2, b => Cp(949).GetString(b));
    static readonly CodeElement Gb2312 = new("ISO 2022 IR 58", true, 2, b => Cp(936).GetString(b));

    static CodeElement Latin(string name, int cp) => new(name, true, 1, b => (cp == 28591 ? Encoding.Latin1 : Cp(cp)).GetString(b.Select(x => (byte)(x | 0x80)).ToArray()));

    // PS3.3 Table C.12-2/C.12-3/C.12-4: defined term → (G0, G1) and ISO 2022 escape sequences.
    static readonly Dictionary<string, (CodeElement? G0, CodeElement? G1)> Iso2022Terms = new()
    {
        ["ISO 2022 IR 6"] = (Ascii, null),
        ["ISO 2022 IR 100"] = (Ascii, Latin("ISO 2022 IR 100", 28591)),
        ["ISO 2022 IR 101"] = (Ascii, Latin("ISO 2022 IR 101", 28592)),
        ["ISO 2022 IR 109"] = (Ascii, Latin("ISO 2022 IR 109", 28593)),
        ["ISO 2022 IR 110"] = (Ascii, Latin("ISO 2022 IR 110", 28594)),
        ["ISO 2022 IR 144"] = (Ascii, Latin("ISO 2022 IR 144", 28595)),
        ["ISO 2022 IR 127"] = (Ascii, Latin("ISO 2022 IR 127", 28596)),
        ["ISO 2022 IR 126"] = (Ascii, Latin("ISO 2022 IR 126", 28597)),
        ["ISO 2022 IR 138"] = (Ascii, Latin("ISO 2022 IR 138", 28598)),
        ["ISO 2022 IR 148"] = (Ascii, Latin("ISO 2022 IR 148", 28599)),
        ["ISO 2022 IR 203"] = (Ascii, Latin("ISO 2022 IR 203", 28605)),
        ["ISO 2022 IR 166"] = (Ascii, Latin("ISO 2022 IR 166", 874)),
        ["ISO 2022 IR 13"] = (JisRomaji, JisKatakana),
        ["ISO 2022 IR 87"] = (JisX0208, null),
        ["ISO 2022 IR 159"] = (JisX0212, null),
        ["ISO 2022 IR 149"] = (null, KsX1001),
        ["ISO 2022 IR 58"] = (null, Gb2312),
    };

    static readonly Dictionary<string, CodeElement> Escapes = new()
    {
        ["(B"] = Ascii, ["(J"] = JisRomaji, [")I"] = JisKatakana, ["$B"] = JisX0208, ["$@"] = JisX0208, ["$(D"] = JisX0212,
        ["$)C"] = KsX1001, ["$)A"] = Gb2312,
        ["-A"] = Iso2022Terms["ISO 2022 IR 100"].G1!, ["-B"] = Iso2022Terms["ISO 2022 IR 101"].G1!,
        ["-C"] = Iso2022Terms["ISO 2022 IR 109"].G1!, ["-D"] = Iso2022Terms["ISO 2022 IR 110"].G1!,
        ["-L"] = Iso2022Terms["ISO 2022 IR 144"].G1!, ["-G"] = Iso2022Terms["ISO 2022 IR 127"].G1!,
        ["-F"] = Iso2022Terms["ISO 2022 IR 126"].G1!, ["-H"] = Iso2022Terms["ISO 2022 IR 138"].G1!,
        ["-M"] = Iso2022Terms["ISO 2022 IR 148"].G1!, ["-b"] = Iso2022Terms["ISO 2022 IR 203"].G1!,
        ["-T"] = Iso2022Terms["ISO 2022 IR 166"].G1!,
    };

    // PS3.3 Table C.12-2 (no code extensions) and C.12-5 (stand-alone multi-byte).
    static readonly Dictionary<string, Func<Encoding>> SingleTerms = new()
    {
        [""] = () => Encoding.Latin1, ["ISO_IR 6"] = () => Encoding.Latin1,
        ["ISO_IR 100"] = () => Encoding.Latin1, ["ISO_IR 101"] = () => Cp(28592), ["ISO_IR 109"] = () => Cp(28593),
        ["ISO_IR 110"] = () => Cp(28594), ["ISO_IR 144"] = () => Cp(28595), ["ISO_IR 127"] = () => Cp(28596),
        ["ISO_IR 126"] = () => Cp(28597), ["ISO_IR 138"] = () => Cp(28598), ["ISO_IR 148"] = () => Cp(28599),
        ["ISO_IR 203"] = () => Cp(28605), ["ISO_IR 166"] = () => Cp(874), ["ISO_IR 13"] = () => Cp(932),
        ["ISO_IR 192"] = () => new UTF8Encoding(false, false), ["GB18030"] = () => Cp(54936), ["GBK"] = () => Cp(936),
    };

    readonly Encoding? _single;
    readonly CodeElement? _g0, _g1;
    readonly bool _iso2022;

    public IReadOnlyList<string> Terms { get; }
    public static DicomCharacterSet Default { get; } = new([""]);

    /// <summary>Terms the reader did not recognise (decoded as the default repertoire); empty when all are known.</summary>
    public IReadOnlyList<string> UnknownTerms { get; }

    DicomCharacterSet(string[] terms)
    {
        Terms = terms;
        var unknown = new List<string>();
        var first = terms.Length > 0 ? Normalise(terms[0]) : "";
        _iso2022 = terms.Length > 1 || first.StartsWith("ISO 2022", StringComparison.Ordinal);
        if (!_iso2022)
        {
            if (SingleTerms.TryGetValue(first, out var f)) _single = f();
            else { unknown.Add(first); _single = Encoding.Latin1; }
        }
        else
        {
            // PS3.5 §6.1.2.5.1: value 1 is the initial state (empty value 1 = default repertoire in G0).
            var t = first.Length == 0 ? "ISO 2022 IR 6" : first;
            if (!t.StartsWith("ISO 2022", StringComparison.Ordinal)) t = "ISO 2022 " + t.Replace("ISO_IR ", "IR ");
            if (Iso2022Terms.TryGetValue(t, out var init)) { _g0 = init.G0 ?? Ascii; _g1 = init.G1; }
            else { unknown.Add(first); _g0 = Ascii; }
            foreach (var term in terms.Skip(1).Select(Normalise))
                if (!Iso2022Terms.ContainsKey(term) && term != "ISO 2022 GBK" && term != "ISO 2022 58") unknown.Add(term);
        }
        UnknownTerms = unknown;
    }

    static string Normalise(string term)
    {
        term = term.Trim(' ', '\0');
        // Common misspellings seen in the wild ("ISO_IR_100", "ISO IR 100", "ISO-IR 192"); PS3.3 C.12.1.1.2 spells "ISO_IR 100".
        if (term.StartsWith("ISO_IR_", StringComparison.Ordinal) || term.StartsWith("ISO-IR ", StringComparison.Ordinal) || term.StartsWith("ISO IR ", StringComparison.Ordinal))
            term = "ISO_IR " + term[7..];
        if (term == "UTF-8" || term == "UTF8") term = "ISO_IR 192";
        return term;
    }

    public static DicomCharacterSet FromTerms(IReadOnlyList<string> terms)
    {
        if (terms.Count == 0 || (terms.Count == 1 && terms[0].Length == 0)) return Default;
        return new DicomCharacterSet(terms.ToArray());
    }

    /// <summary>Decodes a value with the default repertoire (for VRs that never use the character set: CS, UI, DA, ...).</summary>
    public static string DecodeDefault(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>Decodes a whole value (all its values, delimiters included).</summary>
    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr)
    {
        if (!_iso2022) return _single!.GetString(bytes);
        return DecodeIso2022(bytes, vr == DicomVR.PN);
    }

    string DecodeIso2022(ReadOnlySpan<byte> bytes, bool personName)
    {
        var sb = new StringBuilder(bytes.Length);
        CodeElement g0 = _g0!, g1 = _g1 ?? Ascii;
        var run = new List<byte>();
        CodeElement? runSet = null;

        void Flush()
        {
            if (run.Count > 0 && runSet != null) sb.Append(runSet.Decode(run.ToArray()));
            run.Clear();
            runSet = null;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == 0x1B)
            {
                // ESC I..I F: intermediates 0x20-0x2F, then a final byte 0x30-0x7E (ISO/IEC 2022 §13).
                var j = i + 1;
                while (j < bytes.Length && bytes[j] >= 0x20 && bytes[j] <= 0x2F) j++;
                if (j < bytes.Length)
                {
                    var seq = Encoding.ASCII.GetString(bytes.Slice(i + 1, j - i));
                    if (Escapes.TryGetValue(seq, out var set))
                    {
                        Flush();
                        if (set.IsG1) g1 = set; else g0 = set;
                        i = j;
                        continue;
                    }
                }
                Flush();
                sb.Append('\u001B');
                continue;
            }
            var isControl = b < 0x20 || b == 0x7F;
            // PS3.5 §6.1.2.5.3: back to the initial state before control characters, value delimiters, and PN's '^' and '='.
            var singleByteG0 = g0.BytesPerChar == 1;
            var isDelimiter = singleByteG0 && (b == (byte)'\\' || (personName && (b == (byte)'^' || b == (byte)'=')));
            if (isControl || isDelimiter)
            {
                Flush();
                sb.Append((char)b);
                g0 = _g0!; g1 = _g1 ?? Ascii;
                continue;
            }
            var target = b < 0x80 ? g0 : g1;
            if (target.BytesPerChar == 2 && i + 1 < bytes.Length)
            {
                if (runSet != target) { Flush(); runSet = target; }
                run.Add(b);
                run.Add(bytes[++i]);
                continue;
            }
            if (runSet != target) { Flush(); runSet = target; }
            run.Add(b);
        }
        Flush();
        return sb.ToString();
    }

    public override string ToString() => string.Join('\\', Terms);
}
