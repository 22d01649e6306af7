using System.Diagnostics;
using Casebook.Extract.Dicom;
using Xunit;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>Truncated and lying input: a partial dataset plus an error naming offset and tag; never a crash, hang or huge allocation.</summary>
public class DicomMalformedTests
{
    static byte[] Sample()
    {
        var d = new DicomBytes();
        d.Text(0x00080005, "CS", "ISO_IR 100");
        d.Text(0x00100010, "PN", "Doe^John");
        d.Header(0x00081115, "SQ", 0xFFFFFFFF);
        d.Item().Text(0x0020000E, "UI", "1.2.3", 0).Header(0x0008114A, "SQ", 0xFFFFFFFF).Item().Text(0x00081155, "UI", "1.2.3.4", 0).ItemEnd().SequenceEnd().ItemEnd();
        d.SequenceEnd();
        d.Element(0x00280010, "US", [0, 2]);
        d.Header(0x7FE00010, "OB", 0xFFFFFFFF).Item(0).Item(4).Raw(1, 2, 3, 4).SequenceEnd();
        return DicomBytes.Part10("1.2.840.10008.1.2.4.50", d.ToArray());
    }

    /// <summary>Reads and asserts the outcome is either complete or a DicomParseException, within the time and allocation bounds.</summary>
    static DicomFile? ReadBounded(byte[] bytes, long maxAllocated = 64L << 20)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        DicomFile? f = null;
        try
        {
            f = DicomFile.Open(bytes);
            _ = DicomJson.Dump(f); // value decoding must be as safe as parsing
            if (f.PixelData?.Fragments is { } frags) foreach (var fr in frags.GetFrames()) _ = frags.ReadFrame(fr);
        }
        catch (DicomParseException) { }
        Assert.True(sw.ElapsedMilliseconds < 2000, $"took {sw.ElapsedMilliseconds} ms");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < maxAllocated, "allocated too much");
        return f;
    }

    [Fact]
    public void Every_truncation_gives_a_partial_result_or_a_clear_error()
    {
        var full = Sample();
        using (var ok = DicomFile.Open(full)) Assert.True(ok.IsComplete, string.Join(";", ok.Problems));
        for (var n = 0; n < full.Length; n++)
        {
            using var f = ReadBounded(full[..n]);
            if (f != null && !f.IsComplete)
                Assert.Matches(@"at byte offset \d+", f.Problems[0].Message);
        }
    }

    [Fact]
    public void A_lying_value_length_names_the_tag_and_offset_and_allocates_nothing_big()
    {
        var d = new DicomBytes();
        d.Text(0x00100010, "PN", "Doe^John");
        d.Header(0x00100020, "UT", 0xFFFFFFF0).Raw("short"u8.ToArray()); // claims ~4 GiB
        var bytes = DicomBytes.Part10("1.2.840.10008.1.2.1", d.ToArray());
        using var f = ReadBounded(bytes, maxAllocated: 1 << 20)!;
        Assert.False(f.IsComplete);
        var p = f.Problems[0];
        Assert.Equal(new DicomTag(0x00100020), p.Tag);
        Assert.Equal(bytes.Length - 5 - 12, p.Offset);
        Assert.Contains("(0010,0020)", p.Message);
        Assert.Equal("Doe^John", f.Dataset.GetString(new DicomTag(0x00100010))); // the partial dataset keeps what came before
    }

    [Fact]
    public void Lying_item_and_fragment_lengths_are_errors()
    {
        var seq = new DicomBytes().Header(0x00081115, "SQ", 0xFFFFFFFF).Item(0x7FFFFFF0).Text(0x0020000E, "UI", "1", 0).ToArray();
        using (var f = ReadBounded(DicomBytes.Part10("1.2.840.10008.1.2.1", seq))!) Assert.False(f.IsComplete);
        var px = new DicomBytes().Header(0x7FE00010, "OB", 0xFFFFFFFF).Item(0).Item(0x7FFFFFF0).Raw(1, 2).ToArray();
        using (var f = ReadBounded(DicomBytes.Part10("1.2.840.10008.1.2.4.50", px))!)
        {
            Assert.False(f.IsComplete);
            Assert.Equal(DicomTag.PixelData, f.Problems[0].Tag);
        }
    }

    [Fact]
    public void Strict_mode_throws_the_first_error()
    {
        var full = Sample();
        var e = Assert.Throws<DicomParseException>(() => DicomFile.Open(full[..(full.Length - 20)], new DicomReadOptions { Strict = true }));
        Assert.True(e.Offset > 0);
    }

    [Fact]
    public void Deep_nesting_is_refused_without_overflowing_the_stack()
    {
        var d = new DicomBytes();
        for (var i = 0; i < 5000; i++) d.Header(0x00081115, "SQ", 0xFFFFFFFF).Item();
        using var f = ReadBounded(DicomBytes.Part10("1.2.840.10008.1.2.1", d.ToArray()))!;
        Assert.False(f.IsComplete);
        Assert.Contains("nested deeper", f.Problems[0].Message);
    }

    [Fact]
    public void Random_mutations_never_crash_or_hang()
    {
        var seeds = new List<byte[]> { Sample() };
        var ct = Path.Combine(SharedData.Require("dicom/pydicom"), "CT_small.dcm");
        seeds.Add(File.ReadAllBytes(ct)[..4096]);
        var rng = new Random(1234);
        var sw = Stopwatch.StartNew();
        var runs = 0;
        while (sw.ElapsedMilliseconds < 4000)
        {
            var seed = seeds[runs % seeds.Count];
            var b = (byte[])seed.Clone();
            for (var k = rng.Next(1, 8); k > 0; k--)
            {
                var at = rng.Next(b.Length);
                b[at] = rng.Next(4) switch { 0 => 0xFF, 1 => 0x00, _ => (byte)rng.Next(256) };
            }
            ReadBounded(b)?.Dispose();
            runs++;
        }
        Assert.True(runs > 100);
    }

    [Fact]
    public void Garbage_is_rejected_as_not_DICOM()
    {
        var e = Assert.Throws<DicomParseException>(() => DicomFile.Open("%PDF-1.7 this is not a DICOM file at all"u8.ToArray()));
        Assert.Contains("not a DICOM file", e.Message);
    }
}
