namespace Casebook.Extract.Dicom;

/// <summary>Value Representation (PS3.5 §6.2), stored as its two ASCII characters (first in the high byte).</summary>
public readonly record struct DicomVR(ushort Code)
{
    public static DicomVR From(char a, char b) => new((ushort)((a << 8) | b));
    public static DicomVR Parse(string s) => s.Length == 2 ? From(s[0], s[1]) : UN;

    public static readonly DicomVR AE = From('A', 'E'), AS = From('A', 'S'), AT = From('A', 'T'), CS = From('C', 'S'),
        DA = From('D', 'A'), DS = From('D', 'S'), DT = From('D', 'T'), FL = From('F', 'L'), FD = From('F', 'D'),
        IS = From('I', 'S'), LO = From('L', 'O'), LT = From('L', 'T'), OB = From('O', 'B'), OD = From('O', 'D'),
        OF = From('O', 'F'), OL = From('O', 'L'), OV = From('O', 'V'), OW = From('O', 'W'), PN = From('P', 'N'),
        SH = From('S', 'H'), SL = From('S', 'L'), SQ = From('S', 'Q'), SS = From('S', 'S'), ST = From('S', 'T'),
        SV = From('S', 'V'), TM = From('T', 'M'), UC = From('U', 'C'), UI = From('U', 'I'), UL = From('U', 'L'),
        UN = From('U', 'N'), UR = From('U', 'R'), US = From('U', 'S'), UT = From('U', 'T'), UV = From('U', 'V');

    /// <summary>True for the 34 VRs of PS3.5 Table 6.2-1.</summary>
    public bool IsKnown => (Flags[Code] & KnownFlag) != 0;

    /// <summary>PS3.5 §7.1.2: these VRs have a 2-byte reserved field and a 32-bit length in explicit VR.</summary>
    public bool HasLongLength => (Flags[Code] & LongFlag) != 0;

    // One lookup per element on the parser's hot path instead of a chain of comparisons.
    const byte KnownFlag = 1, LongFlag = 2;
    static readonly byte[] Flags = BuildFlags();
    static byte[] BuildFlags()
    {
        var f = new byte[65536];
        foreach (var s in "AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".Split(' '))
            f[(s[0] << 8) | s[1]] = KnownFlag;
        foreach (var s in "OB OD OF OL OV OW SQ UC UN UR UT SV UV".Split(' '))
            f[(s[0] << 8) | s[1]] |= LongFlag;
        return f;
    }

    public bool IsString => Kind(this) is VRKind.Text or VRKind.DecimalString or VRKind.IntegerString;
    /// <summary>Strings whose bytes pass through Specific Character Set (PS3.5 §6.1.2.3): SH, LO, UC, ST, LT, UT, PN.</summary>
    public bool UsesCharacterSet => this == SH || this == LO || this == UC || this == ST || this == LT || this == UT || this == PN;
    /// <summary>LT, ST, UT, UR hold one value; a backslash there is text, not a delimiter (PS3.5 Table 6.2-1).</summary>
    public bool IsSingleValuedText => this == LT || this == ST || this == UT || this == UR;
    public bool IsBinary => this == OB || this == OD || this == OF || this == OL || this == OV || this == OW || this == UN;

    /// <summary>Size of one value for fixed-size numeric VRs (0 otherwise).</summary>
    public int ValueSize => Code switch
    {
        _ when this == US || this == SS => 2,
        _ when this == UL || this == SL || this == FL || this == AT => 4,
        _ when this == FD || this == SV || this == UV => 8,
        _ => 0,
    };

    internal enum VRKind { Unknown, Text, DecimalString, IntegerString, Number, Tag, Binary, Sequence }

    internal static VRKind Kind(DicomVR vr)
    {
        if (vr == AE || vr == AS || vr == CS || vr == DA || vr == DT || vr == LO || vr == LT || vr == PN || vr == SH ||
            vr == ST || vr == TM || vr == UC || vr == UI || vr == UR || vr == UT) return VRKind.Text;
        if (vr == DS) return VRKind.DecimalString;
        if (vr == IS) return VRKind.IntegerString;
        if (vr == US || vr == SS || vr == UL || vr == SL || vr == FL || vr == FD || vr == SV || vr == UV) return VRKind.Number;
        if (vr == AT) return VRKind.Tag;
        if (vr == OB || vr == OD || vr == OF || vr == OL || vr == OV || vr == OW || vr == UN) return VRKind.Binary;
        if (vr == SQ) return VRKind.Sequence;
        return VRKind.Unknown;
    }

    public override string ToString() => new(new[] { (char)(Code >> 8), (char)(Code & 0xFF) });
}
