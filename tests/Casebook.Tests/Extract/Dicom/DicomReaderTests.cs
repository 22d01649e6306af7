using System.Text;
using Casebook.Extract.Dicom;
using Xunit;

namespace Casebook.Tests.Extract.Dicom;

public class DicomReaderTests
{
    const string ImplicitLE = "1.2.840.10008.1.2", ExplicitLE = "1.2.840.10008.1.2.1", ExplicitBE = "1.2.840.10008.1.2.2",
        DeflatedLE = "1.2.840.10008.1.2.1.99", JpegBaseline = "1.2.840.10008.1.2.4.50";

    static DicomFile Read(byte[] bytes, DicomReadOptions? o = null)
    {
        var f = DicomFile.Open(bytes, o);
        return f;
    }

    static byte[] Le(params object[] values)
    {
        var ms = new MemoryStream();
        foreach (var v in values)
            ms.Write(v switch { ushort u => BitConverter.GetBytes(u), short s => BitConverter.GetBytes(s), uint u => BitConverter.GetBytes(u), int i => BitConverter.GetBytes(i),
                float f => BitConverter.GetBytes(f), double d => BitConverter.GetBytes(d), long l => BitConverter.GetBytes(l), ulong ul => BitConverter.GetBytes(ul), _ => throw new ArgumentException() });
        return ms.ToArray();
    }

    [Fact]
    public void Explicit_little_endian_reads_every_VR()
    {
        var d = new DicomBytes();
        d.Text(0x00080005, "CS", "ISO_IR 192");
        d.Text(0x00080020, "DA", "20240131");
        d.Text(0x00080030, "TM", "101112.5");
        d.Text(0x0008002A, "DT", "20240131101112");
        d.Text(0x00080050, "SH", "ACC1");
        d.Text(0x00080054, "AE", " STORE ");
        d.Text(0x00081010, "SH", "CT-1");
        d.Element(0x00080119, "UC", Encoding.UTF8.GetBytes("long code\\second "));
        d.Element(0x0008010E, "UR", Encoding.UTF8.GetBytes("http://a.b/c "));
        d.Text(0x00081030, "LO", "Study\\Two");
        d.Text(0x00081090, "LO", "Model");
        d.Element(0x00100010, "PN", Encoding.UTF8.GetBytes("Müller^Jörg"));
        d.Text(0x00101010, "AS", "045Y");
        d.Text(0x00101020, "DS", "1.75\\-2e3 ");
        d.Text(0x00200013, "IS", " 12 ");
        d.Text(0x00204000, "LT", " line\\kept ");
        d.Text(0x00080080, "LO", "");
        d.Element(0x00181030, "ST", Encoding.UTF8.GetBytes("short text"));
        d.Element(0x00209161, "UI", Encoding.ASCII.GetBytes("1.2.3\0"));
        d.Element(0x00280010, "US", Le((ushort)512));
        d.Element(0x00280106, "SS", Le((short)-5, (short)7));
        d.Element(0x00186011, "UL", Le(4000000000u));
        d.Element(0x00189219, "SL", Le(-70000));
        d.Element(0x00189327, "FD", Le(3.25));
        d.Element(0x00189328, "FL", Le(1.5f, float.NaN));
        d.Element(0x00209165, "AT", Le((ushort)0x0010, (ushort)0x0020));
        d.Element(0x00660040, "OL", Le(1u, 2u));
        d.Element(0x00720082, "SV", Le(-9_000_000_000L));
        d.Element(0x00720083, "UV", Le(18_000_000_000_000_000_000UL));
        d.Element(0x00660023, "OF", Le(1f));
        d.Element(0x00660042, "OD", Le(1d));
        d.Element(0x00660129, "OV", Le(5UL));
        d.Element(0x00420011, "OB", [1, 2, 3, 0]);
        d.Element(0x00281201, "OW", Le((ushort)1, (ushort)2));
        d.Element(0x40000010, "UT", Encoding.UTF8.GetBytes("unlimited \\ text  "));
        using var f = Read(DicomBytes.Part10(ExplicitLE, d.ToArray()));
        Assert.True(f.IsComplete, string.Join(";", f.Problems));
        var ds = f.Dataset;
        Assert.Equal("STORE", ds.GetString(new DicomTag(0x00080054)));
        Assert.Equal(["long code", "second"], ds.GetStrings(new DicomTag(0x00080119)));
        Assert.Equal("http://a.b/c", ds.GetString(new DicomTag(0x0008010E)));
        Assert.Equal(["Study", "Two"], ds.GetStrings(new DicomTag(0x00081030)));
        Assert.Equal("Müller^Jörg", ds.GetString(new DicomTag(0x00100010)));
        Assert.Equal([1.75, -2000], ds.GetDoubles(new DicomTag(0x00101020)));
        Assert.Equal(12, ds.GetInteger(new DicomTag(0x00200013)));
        Assert.Equal(" line\\kept", ds.GetString(new DicomTag(0x00204000))); // LT: one value, leading spaces significant
        Assert.Empty(ds.GetStrings(new DicomTag(0x00080080)));
        Assert.Equal("1.2.3", ds.GetString(new DicomTag(0x00209161)));
        Assert.Equal([-5.0, 7.0], ds.GetDoubles(new DicomTag(0x00280106)));
        Assert.Equal(4000000000d, ds.GetDouble(new DicomTag(0x00186011)));
        Assert.Equal(-70000d, ds.GetDouble(new DicomTag(0x00189219)));
        Assert.Equal(3.25, ds.GetDouble(new DicomTag(0x00189327)));
        Assert.Equal(new DicomTag(0x00100020), ds[new DicomTag(0x00209165)]!.GetTags()[0]);
        Assert.Equal(-9_000_000_000L, ds[new DicomTag(0x00720082)]!.GetNumbers()[0]);
        Assert.Equal(18_000_000_000_000_000_000UL, ds[new DicomTag(0x00720083)]!.GetNumbers()[0]);
        Assert.Equal("unlimited \\ text", ds.GetString(new DicomTag(0x40000010)));
        Assert.Equal(4, ds[new DicomTag(0x00420011)]!.Length);

        var json = DicomJson.Dump(f);
        Assert.Contains("\"tag\":\"(0010,0010)\",\"vr\":\"PN\",\"keyword\":\"PatientName\",\"value\":\"Müller^Jörg\"", json);
        Assert.Contains("\"value\":[1.5,\"NaN\"]", json);
        Assert.Contains("\"vr\":\"OB\",\"keyword\":\"EncapsulatedDocument\",\"value\":{\"length\":4}", json);
        Assert.Contains("\"keyword\":\"InstanceNumber\",\"value\":12}", json);
        Assert.Contains("\"keyword\":\"InstitutionName\",\"value\":null}", json);
        Assert.Contains("\"value\":\"(0010,0020)\"", json);
    }

    [Fact]
    public void Explicit_big_endian_swaps_numbers_and_tags()
    {
        var d = new DicomBytes(bigEndian: true);
        d.Text(0x00100010, "PN", "Doe^John");
        d.Element(0x00280010, "US", [0x02, 0x00]);
        d.Element(0x00189328, "FL", BitConverter.GetBytes(1.5f).Reverse().ToArray());
        d.Element(0x00209165, "AT", [0x00, 0x10, 0x00, 0x20]);
        using var f = Read(DicomBytes.Part10(ExplicitBE, d.ToArray()));
        Assert.True(f.IsComplete);
        Assert.True(f.Dataset.BigEndian);
        Assert.Equal(512, f.Dataset.GetInteger(DicomTag.Rows));
        Assert.Equal(1.5, f.Dataset.GetDouble(new DicomTag(0x00189328)));
        Assert.Equal(new DicomTag(0x00100020), f.Dataset[new DicomTag(0x00209165)]!.GetTags()[0]);
    }

    [Fact]
    public void Implicit_VR_takes_VRs_from_the_dictionary_and_reads_nested_undefined_length_sequences()
    {
        var d = new DicomBytes(explicitVR: false);
        d.Text(0x00100010, "PN", "Doe^Jane");
        d.Element(0x00280103, "US", [1, 0]); // PixelRepresentation 1 → "US or SS" elements are SS
        d.Element(0x00280106, "US", [0xFF, 0xFF]);
        d.Tag(0x00081115).U32(0xFFFFFFFF);      // ReferencedSeriesSequence, undefined length
        d.Item();
        d.Text(0x0020000E, "UI", "1.2.3", 0);
        d.Tag(0x0008114A).U32(0xFFFFFFFF);      // ReferencedInstanceSequence nested
        d.Item(); d.Text(0x00081155, "UI", "1.2.3.4", 0); d.ItemEnd();
        d.SequenceEnd();
        d.ItemEnd();
        d.Item(16); d.Text(0x0020000E, "UI", "1.2.3.5", 0); // defined-length item (8 header + 8 value)
        d.SequenceEnd();
        d.Element(0x00090010, "LO", Encoding.ASCII.GetBytes("ACME 1.0"));
        d.Element(0x00091001, "UN", [1, 2, 3, 4]);
        using var f = Read(DicomBytes.Part10(ImplicitLE, d.ToArray()));
        Assert.True(f.IsComplete, string.Join(";", f.Problems));
        Assert.Equal(DicomVR.PN, f.Dataset[new DicomTag(0x00100010)]!.VR);
        Assert.Equal(DicomVR.SS, f.Dataset[new DicomTag(0x00280106)]!.VR);
        Assert.Equal(-1, f.Dataset.GetDouble(new DicomTag(0x00280106)));
        var seq = f.Dataset[new DicomTag(0x00081115)]!;
        Assert.Equal(2, seq.Items!.Count);
        Assert.Equal("1.2.3.4", seq.Items[0][new DicomTag(0x0008114A)]!.Items![0].GetString(new DicomTag(0x00081155)));
        Assert.Equal("1.2.3.5", seq.Items[1].GetString(new DicomTag(0x0020000E)));
        // PS3.5 §7.8.1: private creator LO, private data UN in implicit VR.
        Assert.Equal(DicomVR.LO, f.Dataset[new DicomTag(0x00090010)]!.VR);
        Assert.Equal(DicomVR.UN, f.Dataset[new DicomTag(0x00091001)]!.VR);
        Assert.Equal("ACME 1.0", f.Dataset.PrivateCreatorOf(new DicomTag(0x00091001)));
    }

    [Fact]
    public void Explicit_sequences_of_defined_length_nest()
    {
        var inner = new DicomBytes().Text(0x00081150, "UI", "1.2", 0).ToArray();
        var innerSeq = new DicomBytes().Item((uint)inner.Length).Raw(inner).ToArray();
        var item = new DicomBytes().Header(0x00081199, "SQ", (uint)innerSeq.Length).Raw(innerSeq).ToArray();
        var seq = new DicomBytes().Item((uint)item.Length).Raw(item).ToArray();
        var d = new DicomBytes().Header(0x00081115, "SQ", (uint)seq.Length).Raw(seq).Text(0x00100010, "PN", "After^Seq");
        using var f = Read(DicomBytes.Part10(ExplicitLE, d.ToArray()));
        Assert.True(f.IsComplete);
        Assert.Equal("1.2", f.Dataset[new DicomTag(0x00081115)]!.Items![0][new DicomTag(0x00081199)]!.Items![0].GetString(new DicomTag(0x00081150)));
        Assert.Equal("After^Seq", f.Dataset.GetString(new DicomTag(0x00100010)));
    }

    [Fact]
    public void UN_of_undefined_length_is_read_as_an_implicit_VR_sequence()
    {
        // PS3.5 §6.2.2: UN with undefined length holds an implicit VR little endian sequence.
        var d = new DicomBytes();
        d.Header(0x00091010, "UN", 0xFFFFFFFF);
        d.Item(); d.Tag(0x00100020).U32(4).Raw("ID1 "u8.ToArray()); d.ItemEnd();
        d.SequenceEnd();
        // UN of defined length whose tag the dictionary knows as SQ: also read as a sequence.
        var itemBody = new DicomBytes(explicitVR: false).Tag(0x00081150).U32(4).Raw("1.2\0"u8.ToArray()).ToArray();
        var seqBody = new DicomBytes(explicitVR: false).Item((uint)itemBody.Length).Raw(itemBody).ToArray();
        d.Header(0x00081115, "UN", (uint)seqBody.Length).Raw(seqBody);
        d.Text(0x00100010, "PN", "X");
        using var f = Read(DicomBytes.Part10(ExplicitLE, d.ToArray()));
        Assert.True(f.IsComplete, string.Join(";", f.Problems));
        Assert.Equal("ID1", f.Dataset[new DicomTag(0x00091010)]!.Items![0].GetString(DicomTag.PatientID));
        var known = f.Dataset[new DicomTag(0x00081115)]!;
        Assert.Equal(DicomVR.SQ, known.VR);
        Assert.Equal(DicomVR.UN, known.EncodedVR);
        Assert.Equal("1.2", known.Items![0].GetString(new DicomTag(0x00081150)));
    }

    [Fact]
    public void Odd_length_values_and_trailing_padding_are_tolerated()
    {
        var d = new DicomBytes();
        d.Element(0x00100010, "PN", Encoding.ASCII.GetBytes("Odd^Len")); // 7 bytes: PS3.5 §7.1.1 requires even, readers accept
        d.Element(0x00100020, "LO", Encoding.ASCII.GetBytes("ID"));
        var bytes = DicomBytes.Part10(ExplicitLE, d.ToArray()).Concat(new byte[3]).ToArray();
        using var f = Read(bytes);
        Assert.True(f.IsComplete, string.Join(";", f.Problems));
        Assert.Equal("Odd^Len", f.Dataset.GetString(new DicomTag(0x00100010)));
        Assert.Equal("ID", f.Dataset.GetString(DicomTag.PatientID));
    }

    [Fact]
    public void Files_without_meta_header_are_read_with_an_inferred_syntax()
    {
        var implicitDs = new DicomBytes(explicitVR: false).Text(0x00080060, "CS", "CT").Text(0x00100010, "PN", "A^B").ToArray();
        using (var f = Read(implicitDs))
        {
            Assert.Equal(DicomTransferSyntax.ImplicitVRLittleEndian, f.TransferSyntax);
            Assert.Equal("A^B", f.Dataset.GetString(new DicomTag(0x00100010)));
            Assert.False(f.HasMeta);
        }
        var explicitBe = new DicomBytes(bigEndian: true).Text(0x00080060, "CS", "MR").ToArray();
        using (var f = Read(explicitBe)) Assert.Equal("MR", f.Dataset.GetString(DicomTag.Modality));
    }

    [Fact]
    public void Deflated_explicit_little_endian_is_inflated()
    {
        var d = new DicomBytes();
        d.Text(0x00100010, "PN", "Deflated^Patient");
        d.Header(0x00081115, "SQ", 0xFFFFFFFF).Item().Text(0x0020000E, "UI", "1.2.3", 0).ItemEnd().SequenceEnd();
        using var f = Read(DicomBytes.Part10(DeflatedLE, DicomBytes.Deflate(d.ToArray())));
        Assert.True(f.IsComplete, string.Join(";", f.Problems));
        Assert.Equal("Deflated^Patient", f.Dataset.GetString(new DicomTag(0x00100010)));
        Assert.Single(f.Dataset[new DicomTag(0x00081115)]!.Items!);
    }

    [Fact]
    public void Deflate_bomb_is_refused_at_the_limit()
    {
        var huge = new byte[8 << 20]; // 8 MiB of zeros deflates to a few KiB
        var d = new DicomBytes().Header(0x00420011, "OB", (uint)huge.Length).Raw(huge).ToArray();
        using var f = Read(DicomBytes.Part10(DeflatedLE, DicomBytes.Deflate(d)), new DicomReadOptions { MaxInflatedBytes = 1 << 20 });
        Assert.False(f.IsComplete);
        Assert.Contains("limit", f.Problems[0].Message);
    }

    static byte[] EncapsulatedFile(bool withBot, bool withEot, int frames = 2)
    {
        var d = new DicomBytes();
        d.Text(0x00280008, "IS", frames.ToString());
        byte[][] frag = [[0xFF, 0xD8, 1, 2, 0xFF, 0xD9], [0xFF, 0xD8, 3, 4], [5, 6, 0xFF, 0xD9]]; // frame 0: fragment 0; frame 1: fragments 1+2
        if (withEot)
        {
            d.Element(0x7FE00001, "OV", Le(0UL, 14UL));
            d.Element(0x7FE00002, "OV", Le(6UL, 12UL));
        }
        d.Header(0x7FE00010, "OB", 0xFFFFFFFF);
        if (withBot) d.Item(8).Raw(Le(0u, 14u)); else d.Item(0);
        foreach (var f in frag) d.Item((uint)f.Length).Raw(f);
        d.SequenceEnd();
        d.Element(0xFFFCFFFC, "OB", [0, 0]); // trailing padding element after pixel data
        return DicomBytes.Part10(JpegBaseline, d.ToArray());
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Encapsulated_pixel_data_exposes_frames_as_byte_ranges(bool bot, bool eot)
    {
        var bytes = EncapsulatedFile(bot, eot);
        using var f = Read(bytes);
        Assert.True(f.IsComplete, string.Join(";", f.Problems));
        var px = f.PixelData!;
        Assert.NotNull(px.Fragments);
        Assert.Equal(3, px.Fragments!.Fragments.Count);
        var frames = px.Fragments.GetFrames();
        Assert.Equal(2, frames.Count);
        Assert.Single(frames[0].Fragments);
        Assert.Equal(2, frames[1].Fragments.Count);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 3, 4, 5, 6, 0xFF, 0xD9 }, px.Fragments.ReadFrame(frames[1]));
        Assert.Equal(0xFF, bytes[frames[0].Fragments[0].Offset]);
        Assert.Equal(DicomVR.OB, f.Dataset[new DicomTag(0xFFFCFFFC)]!.VR);
    }

    [Fact]
    public void Stop_before_pixels_reads_nothing_past_the_pixel_data_tag()
    {
        var bytes = EncapsulatedFile(true, false);
        using var f = Read(bytes, DicomReadOptions.HeaderOnly);
        Assert.True(f.StoppedBeforePixels);
        Assert.Null(f.PixelData);
        Assert.Equal(2, f.Dataset.GetInteger(DicomTag.NumberOfFrames));
    }

    [Fact]
    public void Large_values_stay_on_disk_until_asked_for()
    {
        var big = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        var d = new DicomBytes().Text(0x00100010, "PN", "Big").Header(0x00420011, "OB", (uint)big.Length).Raw(big);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, DicomBytes.Part10(ExplicitLE, d.ToArray()));
            using var f = DicomFile.Open(path, new DicomReadOptions { ReadWholeFileUpTo = 0, DeferValuesLongerThan = 1000 });
            var e = f.Dataset[new DicomTag(0x00420011)]!;
            Assert.True(e.IsDeferred);
            Assert.Equal("Big", f.Dataset.GetString(new DicomTag(0x00100010)));
            Assert.Equal(big, e.RawValue.ToArray());
            Assert.False(e.IsDeferred);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Dictionary_has_keywords_VRs_and_retired_flags()
    {
        Assert.True(DicomDictionary.Count > 4000);
        var pn = DicomDictionary.Lookup(new DicomTag(0x00100010))!;
        Assert.Equal(("PN", "1", "Patient's Name", "PatientName", false), (pn.VR, pn.VM, pn.Name, pn.Keyword, pn.Retired));
        Assert.True(DicomDictionary.Lookup(new DicomTag(0x00000001))!.Retired);
        Assert.Equal("OverlayData", DicomDictionary.Lookup(new DicomTag(0x60023000))!.Keyword); // repeating group 60xx
        Assert.Equal("US or SS", DicomDictionary.Lookup(new DicomTag(0x00280106))!.VR);
        Assert.Equal(0x7FE00010u, DicomDictionary.Lookup("PixelData")!.Tag);
        Assert.Null(DicomDictionary.Lookup(new DicomTag(0x00091001)));
    }
}
