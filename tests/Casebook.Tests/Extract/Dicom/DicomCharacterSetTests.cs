using System.Text;
using Casebook.Extract.Dicom;
using Xunit;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>Specific Character Set (PS3.5 §6.1, PS3.3 C.12.1.1.2), with the examples of PS3.5 Annexes H, I, J, K.</summary>
public class DicomCharacterSetTests
{
    static string Decode(string charset, byte[] value, string vr = "PN")
    {
        var d = new DicomBytes();
        d.Text(0x00080005, "CS", charset);
        d.Element(vr == "PN" ? 0x00100010u : 0x00081030u, vr, value.Length % 2 == 1 ? [.. value, (byte)' '] : value);
        using var f = DicomFile.Open(DicomBytes.Part10("1.2.840.10008.1.2.1", d.ToArray()));
        Assert.True(f.IsComplete);
        return string.Join('\\', f.Dataset.GetStrings(new DicomTag(vr == "PN" ? 0x00100010u : 0x00081030u)));
    }

    static byte[] Enc(int codePage, string s) => CodePagesEncodingProvider.Instance.GetEncoding(codePage)!.GetBytes(s);

    [Theory]
    [InlineData("ISO_IR 100", 28591, "Buc^Jérôme")]
    [InlineData("ISO_IR 101", 28592, "Wałęsa^Lech")]
    [InlineData("ISO_IR 109", 28593, "Ġużeppi^Ħal")]
    [InlineData("ISO_IR 110", 28594, "Ķēniņš^Ņina")]
    [InlineData("ISO_IR 144", 28595, "Люкceмбypг")]
    [InlineData("ISO_IR 126", 28597, "Διονυσιος")]
    [InlineData("ISO_IR 127", 28596, "قباني^لنزار")]
    [InlineData("ISO_IR 138", 28598, "שרון^דבורה")]
    [InlineData("ISO_IR 148", 28599, "Çavuşoğlu^Gül")]
    [InlineData("ISO_IR 203", 28605, "Œuvre^€uro")]
    [InlineData("ISO_IR 166", 874, "ประเทศไทย")]
    [InlineData("GB18030", 54936, "Wang^XiaoDong=王^小东=")]
    [InlineData("GBK", 936, "王^小东")]
    public void Single_byte_and_stand_alone_sets_decode(string term, int codePage, string text)
    {
        var bytes = codePage == 28591 ? Encoding.Latin1.GetBytes(text) : Enc(codePage, text);
        Assert.Equal(text, Decode(term, bytes));
    }

    [Fact]
    public void Utf8_decodes() => Assert.Equal("Wang^XiaoDong=王^小東=", Decode("ISO_IR 192", Encoding.UTF8.GetBytes("Wang^XiaoDong=王^小東=")));

    [Fact]
    public void Default_repertoire_is_ASCII() => Assert.Equal("Smith^John", Decode("", "Smith^John"u8.ToArray()));

    [Fact]
    public void GBK_trail_byte_5C_is_not_a_value_delimiter()
    {
        // PS3.5 §6.1.2.3: in GB18030/GBK a 0x5C may be the second byte of a character; 乗 is 81 5C in GBK.
        var bytes = new byte[] { 0x81, 0x5C, 0x5C, 0x41 };
        Assert.Equal("乗\\A", Decode("GBK", bytes, "LO"));
    }

    [Fact]
    public void Japanese_ISO_2022_IR_87_person_name_decodes_per_component_group()
    {
        // PS3.5 H.3.1: Yamada^Tarou=山田^太郎=やまだ^たろう with (0008,0005) "\ISO 2022 IR 87".
        byte[] v = [0x59, 0x61, 0x6D, 0x61, 0x64, 0x61, 0x5E, 0x54, 0x61, 0x72, 0x6F, 0x75, 0x3D, 0x1B, 0x24, 0x42, 0x3B, 0x33, 0x45, 0x44, 0x1B, 0x28, 0x42,
            0x5E, 0x1B, 0x24, 0x42, 0x42, 0x40, 0x4F, 0x3A, 0x1B, 0x28, 0x42, 0x3D, 0x1B, 0x24, 0x42, 0x24, 0x64, 0x24, 0x5E, 0x24, 0x40, 0x1B, 0x28, 0x42,
            0x5E, 0x1B, 0x24, 0x42, 0x24, 0x3F, 0x24, 0x6D, 0x24, 0x26, 0x1B, 0x28, 0x42];
        Assert.Equal("Yamada^Tarou=山田^太郎=やまだ^たろう", Decode("\\ISO 2022 IR 87", v));
    }

    [Fact]
    public void Japanese_katakana_ISO_2022_IR_13_with_IR_87()
    {
        // PS3.5 H.3.2: value 1 ISO 2022 IR 13 puts JIS X 0201 katakana in G1: ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう
        byte[] v = [0xD4, 0xCF, 0xC0, 0xDE, 0x5E, 0xC0, 0xDB, 0xB3, 0x3D, 0x1B, 0x24, 0x42, 0x3B, 0x33, 0x45, 0x44, 0x1B, 0x28, 0x4A,
            0x5E, 0x1B, 0x24, 0x42, 0x42, 0x40, 0x4F, 0x3A, 0x1B, 0x28, 0x4A, 0x3D, 0x1B, 0x24, 0x42, 0x24, 0x64, 0x24, 0x5E, 0x24, 0x40, 0x1B, 0x28, 0x4A,
            0x5E, 0x1B, 0x24, 0x42, 0x24, 0x3F, 0x24, 0x6D, 0x24, 0x26, 0x1B, 0x28, 0x4A];
        Assert.Equal("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", Decode("ISO 2022 IR 13\\ISO 2022 IR 87", v));
    }

    [Fact]
    public void Japanese_JIS_X_0212_ISO_2022_IR_159()
    {
        byte[] v = [0x1B, 0x24, 0x28, 0x44, 0x30, 0x21, 0x1B, 0x28, 0x42]; // 丂 (JIS X 0212 0x3021)
        Assert.Equal("丂", Decode("\\ISO 2022 IR 159", v, "LO"));
    }

    [Fact]
    public void Korean_ISO_2022_IR_149_person_name()
    {
        // PS3.5 I.2: Hong^Gildong=洪^吉洞=홍^길동 with (0008,0005) "\ISO 2022 IR 149".
        byte[] v = [0x48, 0x6F, 0x6E, 0x67, 0x5E, 0x47, 0x69, 0x6C, 0x64, 0x6F, 0x6E, 0x67, 0x3D, 0x1B, 0x24, 0x29, 0x43, 0xFB, 0xF3, 0x5E, 0x1B, 0x24, 0x29, 0x43,
            0xD1, 0xCE, 0xD4, 0xD7, 0x3D, 0x1B, 0x24, 0x29, 0x43, 0xC8, 0xAB, 0x5E, 0x1B, 0x24, 0x29, 0x43, 0xB1, 0xE6, 0xB5, 0xBF];
        Assert.Equal("Hong^Gildong=洪^吉洞=홍^길동", Decode("\\ISO 2022 IR 149", v));
    }

    [Fact]
    public void Chinese_ISO_2022_IR_58()
    {
        // PS3.5 K.2: GB2312 in G1 after ESC $ ) A.
        // The escape is repeated after '^' because the delimiter returns to the initial state (PS3.5 §6.1.2.5.3).
        byte[] v = [.. "Wang^XiaoDong="u8.ToArray(), 0x1B, 0x24, 0x29, 0x41, .. Enc(936, "王"), (byte)'^', 0x1B, 0x24, 0x29, 0x41, .. Enc(936, "小东")];
        Assert.Equal("Wang^XiaoDong=王^小东", Decode("\\ISO 2022 IR 58", v));
    }

    [Fact]
    public void ISO_2022_switches_between_latin_and_cyrillic_G1_sets()
    {
        byte[] v = [.. "Ab"u8.ToArray(), 0x1B, 0x2D, 0x4C, .. Enc(28595, "Жд"), 0x1B, 0x2D, 0x41, 0xE9];
        Assert.Equal("AbЖдé", Decode("ISO 2022 IR 100\\ISO 2022 IR 144", v, "LO"));
    }

    [Fact]
    public void Item_inherits_and_may_override_the_character_set()
    {
        var d = new DicomBytes();
        d.Text(0x00080005, "CS", "ISO_IR 100");
        d.Header(0x00081115, "SQ", 0xFFFFFFFF);
        d.Item().Element(0x00100010, "PN", Encoding.Latin1.GetBytes("Jérô")).ItemEnd();
        d.Item().Text(0x00080005, "CS", "ISO_IR 192").Element(0x00100010, "PN", Encoding.UTF8.GetBytes("Jérô")).ItemEnd();
        d.SequenceEnd();
        using var f = DicomFile.Open(DicomBytes.Part10("1.2.840.10008.1.2.1", d.ToArray()));
        var items = f.Dataset[new DicomTag(0x00081115)]!.Items!;
        Assert.Equal("Jérô", items[0].GetString(new DicomTag(0x00100010)));
        Assert.Equal("Jérô", items[1].GetString(new DicomTag(0x00100010)));
    }
}
