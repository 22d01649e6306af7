using Casebook.Extract;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;
using SkiaSharp;

namespace Casebook.Tests.Extract.Dicom.Deid;

/// <summary>
/// Burned-in text found by OCR (Tesseract) of the image borders: a real radiograph (fodicom CR-MONO1-10-chest) into which the test
/// burns a name, an id and a date, against the same image untouched. Masking blacks the text out in the stored pixels.
/// </summary>
public sealed class BurnedInTextTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly PatientPseudonym _key;

    public BurnedInTextTests()
    {
        File.WriteAllText(_dir.KeyFile, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        _key = PatientPseudonym.Load(_dir.KeyFile);
        Assert.True(ExternalTool.IsAvailable("tesseract"), "tesseract is missing: run scripts/setup-system.sh");
    }

    public void Dispose() => _dir.Dispose();

    string WithBurnedText() => WriteBurnedRadiograph(_dir["burned.dcm"]);

    /// <summary>The chest radiograph with white text burned into its top-left and bottom-left corners, as a scanner would print it.</summary>
    internal static string WriteBurnedRadiograph(string path)
    {
        using var f = DicomFile.Open(SharedData.Require("dicom/fodicom/CR-MONO1-10-chest"));
        int rows = (int)f.Dataset.GetInteger(DicomTag.Rows)!, cols = (int)f.Dataset.GetInteger(DicomTag.Columns)!;
        using var bitmap = new SKBitmap(new SKImageInfo(cols, rows, SKColorType.Gray8, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Black);
            using var typeface = SKTypeface.FromFile(Casebook.Extract.Documents.SyntheticScan.DefaultFont);
            using var font = new SKFont(typeface, 16);
            using var ink = new SKPaint { Color = SKColors.White, IsAntialias = true };
            canvas.DrawText("DOE JOHN", 6, 20, SKTextAlign.Left, font, ink);
            canvas.DrawText("ID 48213377", 6, 40, SKTextAlign.Left, font, ink);
            canvas.DrawText("STUDY 2019-03-05", 6, rows - 10, SKTextAlign.Left, font, ink);
        }
        var text = bitmap.GetPixelSpan();
        var copy = DicomOutputDataset.From(f.Dataset, f.Source);
        var pixels = copy[DicomTag.PixelData]!;
        var data = pixels.Value.ToArray();
        // MONOCHROME1: stored 0 displays white. Text pixels become white; anatomy stays.
        for (var y = 0; y < rows; y++)
            for (var x = 0; x < cols; x++)
                if (text[y * bitmap.RowBytes + x] > 96) { data[2 * (y * cols + x)] = 0; data[2 * (y * cols + x) + 1] = 0; }
        pixels.Value = data;
        DicomWriter.Write(path, copy, DicomWriter.OutputTransferSyntax(f.TransferSyntax));
        return path;
    }

    [Fact]
    public void Text_burned_into_the_corners_is_found_flagged_and_masked()
    {
        var burned = WithBurnedText();
        var flagged = new DicomDeidentifier(_key, DeidOptions.Default with { BurnedInText = new BurnedInTextOptions() }).DeidentifyFile(burned, _dir["flagged.dcm"]);
        var b = flagged.Metadata.BurnedInAnnotation;
        Assert.Equal("checked", b.Ocr);
        Assert.True(b.OcrTextFound, "OCR finds the burned-in text");
        Assert.True(b.OcrWords >= 3, $"words: {b.OcrWords}");
        Assert.False(b.Masked);
        Assert.True(b.Present);
        Assert.Contains("\"ocr_text_found\":true", flagged.Metadata.ToJson());
        // Not masked: the file says text is there (0028,0301) and dcmdump reads it.
        Assert.Contains("[YES]", DcmDump.Values(DcmDump.Run(_dir["flagged.dcm"]), 0x00280301).Single());

        var masked = new DicomDeidentifier(_key, DeidOptions.Default with { BurnedInText = new BurnedInTextOptions { Mask = true } }).DeidentifyFile(burned, _dir["masked.dcm"]);
        Assert.True(masked.Metadata.BurnedInAnnotation.Masked);
        var dump = DcmDump.Run(_dir["masked.dcm"]);
        Assert.Contains("[113101]", dump); // Clean Pixel Data Option recorded
        // The text is gone from the stored pixels: OCR of the masked output finds nothing, and the boxes are black (MONOCHROME1: max value).
        using var back = DicomFile.Open(_dir["masked.dcm"]);
        Assert.Equal(0, BurnedInTextDetector.Detect(back, new BurnedInTextOptions()).Words);
        var px = back.PixelData!.RawValue.Span;
        var cols = (int)back.Dataset.GetInteger(DicomTag.Columns)!;
        Assert.Equal(1023, BitConverter.ToUInt16(px.Slice(2 * (14 * cols + 20), 2))); // inside "DOE JOHN"
    }

    [Fact]
    public void A_clean_image_has_no_text_found_and_is_not_changed()
    {
        var path = SharedData.Require("dicom/fodicom/CR-MONO1-10-chest");
        var result = new DicomDeidentifier(_key, DeidOptions.Default with { BurnedInText = new BurnedInTextOptions { Mask = true } }).DeidentifyFile(path, _dir["clean.dcm"]);
        Assert.Equal("checked", result.Metadata.BurnedInAnnotation.Ocr);
        Assert.False(result.Metadata.BurnedInAnnotation.OcrTextFound);
        Assert.False(result.Metadata.Masked);
        using var original = DicomFile.Open(path);
        using var back = DicomFile.Open(_dir["clean.dcm"]);
        Assert.Equal(original.PixelData!.RawValue.ToArray(), back.PixelData!.RawValue.ToArray());
        Assert.DoesNotContain("[113101]", DcmDump.Run(_dir["clean.dcm"]));
    }

    [Fact]
    public void Only_configured_modalities_are_read_and_later_instances_of_a_series_reuse_its_regions()
    {
        // CT is not a modality that burns text in: not read.
        var ct = new DicomDeidentifier(_key, DeidOptions.Default with { BurnedInText = new BurnedInTextOptions() }).Deidentify(SharedData.Require("dicom/pydicom/CT_small.dcm"));
        Assert.Equal("skipped: modality CT", ct.Metadata.BurnedInAnnotation.Ocr);
        Assert.Null(ct.Metadata.BurnedInAnnotation.OcrTextFound);

        // With a budget of one instance per series, the second instance of the series is masked where the first had text, unread.
        var burned = WithBurnedText();
        var deid = new DicomDeidentifier(_key, DeidOptions.Default with { BurnedInText = new BurnedInTextOptions { Mask = true, InstancesPerSeries = 1 } });
        Assert.Equal("checked", deid.Deidentify(burned).Metadata.BurnedInAnnotation.Ocr);
        var second = deid.Deidentify(burned);
        Assert.Equal("series regions reused", second.Metadata.BurnedInAnnotation.Ocr);
        Assert.True(second.Metadata.Masked);
    }
}
