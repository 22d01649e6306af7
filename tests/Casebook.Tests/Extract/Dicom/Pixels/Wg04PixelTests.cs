using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;
using Xunit;
using Xunit.Abstractions;

namespace Casebook.Tests.Extract.Dicom.Pixels;

/// <summary>
/// The wg04 set: one image in every compressed syntax beside its uncompressed original (REF). Lossless syntaxes must
/// equal REF bit for bit; lossy ones must reach the PSNR stated here (measured values are in the test output).
/// </summary>
public class Wg04PixelTests(ITestOutputHelper output)
{
    static readonly string[] Names = ["CT1", "CT2", "MR1", "MR3", "MR4", "NM1", "RG3", "US1", "XA1"];

    public static IEnumerable<object[]> Cases(string syntax) =>
        Names.Where(n => File.Exists(Path.Combine(SharedData.Root ?? "", "dicom/wg04", syntax, $"{n}_{syntax}")))
             .Select(n => new object[] { syntax, n });

    public static IEnumerable<object[]> Lossless() => new[] { "RLE", "JPLL", "JLSL", "J2KR" }.SelectMany(Cases);
    public static IEnumerable<object[]> Lossy() => new[] { "JPLY", "JLSN", "J2KI" }.SelectMany(Cases);

    [Theory]
    [MemberData(nameof(Lossless))]
    public void Lossless_syntax_equals_the_uncompressed_original(string syntax, string name)
    {
        var reference = PixelTestFiles.Decode(PixelTestFiles.Reference(name));
        var decoded = PixelTestFiles.Decode(SharedData.Require($"dicom/wg04/{syntax}/{name}_{syntax}"));
        PixelTestFiles.AssertSameShape(reference, decoded);
        Assert.Equal(reference.DataType, decoded.DataType);
        var (psnr, maxErr) = PixelTestFiles.Compare(reference, decoded);
        output.WriteLine($"{name}_{syntax}: {decoded.Frames}×{decoded.Rows}×{decoded.Columns}×{decoded.SamplesPerPixel} {decoded.DataType}, max error {maxErr}");
        Assert.True(reference.Buffer.AsSpan().SequenceEqual(decoded.Buffer), $"{name}_{syntax} differs from REF: PSNR {psnr:0.0} dB, max error {maxErr}");
    }

    /// <summary>Stated floors (dB, peak 2^BitsStored−1), a little under the measured values recorded in docs.</summary>
    static double Floor(string syntax) => syntax switch { "JLSN" => 40, "J2KI" => 30, _ => 30 };

    [Theory]
    [MemberData(nameof(Lossy))]
    public void Lossy_syntax_is_within_the_stated_PSNR(string syntax, string name)
    {
        var reference = PixelTestFiles.Decode(PixelTestFiles.Reference(name));
        var decoded = PixelTestFiles.Decode(SharedData.Require($"dicom/wg04/{syntax}/{name}_{syntax}"));
        PixelTestFiles.AssertSameShape(reference, decoded);
        var (psnr, maxErr) = PixelTestFiles.Compare(reference, decoded);
        output.WriteLine($"PSNR {name}_{syntax}: {psnr:0.00} dB, max error {maxErr}, bits stored {reference.BitsStored}");
        Assert.True(psnr >= Floor(syntax), $"{name}_{syntax}: PSNR {psnr:0.00} dB below {Floor(syntax)} dB");
    }
}
