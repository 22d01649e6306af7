using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;
using SkiaSharp;
using Xunit;

namespace Casebook.Tests.Extract.Dicom.Pixels;

public class RenderingTests
{
    [Fact]
    public void Linear_window_follows_PS3_3_C_11_2_1_2_1()
    {
        double[] x = [-1000, 39.5 - 0.5 - 39.5, 40, 79, 80, 2000];
        var y = new byte[x.Length];
        ImageRenderer.Window(x, y, 40, 80);
        Assert.Equal(0, y[0]);
        Assert.Equal(0, y[1]);       // x <= c − 0.5 − (w−1)/2
        Assert.InRange(y[2], 127, 130);
        Assert.Equal(255, y[4]);     // x > c − 0.5 + (w−1)/2
        Assert.Equal(255, y[5]);
    }

    [Fact]
    public void Sigmoid_and_linear_exact_windows()
    {
        double[] x = [0, 40, 80];
        var y = new byte[3];
        ImageRenderer.Window(x, y, 40, 80, "SIGMOID");
        Assert.Equal(128, y[1]);
        Assert.True(y[0] < 40 && y[2] > 215); // 255 / (1 + e^±2)
        ImageRenderer.Window(x, y, 40, 80, "LINEAR_EXACT");
        Assert.Equal([0, 128, 255], y);
    }

    [Fact]
    public void CT_presets_apply_after_rescale_to_Hounsfield_units()
    {
        using var file = DicomFile.Open(SharedData.Require("dicom/pydicom/CT_small.dcm"));
        var pixels = PixelDecoder.Decode(file);
        var lung = ImageRenderer.Render(file.Dataset, pixels, 0, new RenderOptions { Preset = "lung" });
        var bone = ImageRenderer.Render(file.Dataset, pixels, 0, new RenderOptions { Preset = "bone" });
        Assert.Equal(128 * 128, lung.Pixels.Length);
        Assert.True(lung.Pixels.Select(b => (int)b).Average() > bone.Pixels.Select(b => (int)b).Average(), "soft tissue is brighter in a lung window than in a bone window");
        Assert.Throws<ArgumentException>(() => ImageRenderer.Render(file.Dataset, pixels, 0, new RenderOptions { Preset = "nonsense" }));
    }

    [Fact]
    public void MONOCHROME1_is_inverted()
    {
        using var file = DicomFile.Open(SharedData.Require("dicom/fodicom/CR-MONO1-10-chest"));
        var pixels = PixelDecoder.Decode(file);
        Assert.Equal("MONOCHROME1", pixels.PhotometricInterpretation.Trim());
        var image = ImageRenderer.Render(file.Dataset, pixels, 0, new RenderOptions { AutoWindow = true });
        var values = pixels.FrameValues(0);
        var argmax = Array.IndexOf(values, values.Max());
        Assert.Equal(0, image.Pixels[argmax]); // highest stored value shows black
    }

    [Fact]
    public void Palette_colour_and_YBR_render_to_RGB_and_PNG()
    {
        using var palette = DicomFile.Open(SharedData.Require("dicom/fodicom/TestPattern_Palette.dcm"));
        var rgb = ImageRenderer.Render(palette.Dataset, PixelDecoder.Decode(palette));
        Assert.Equal(3, rgb.Channels);
        Assert.Contains(Enumerable.Range(0, rgb.Width * rgb.Height), i => rgb.Pixels[3 * i] != rgb.Pixels[3 * i + 1]);

        using var ybr = DicomFile.Open(SharedData.Require("dicom/pydicom/SC_ybr_full_422_uncompressed.dcm"));
        using var reference = DicomFile.Open(SharedData.Require("dicom/pydicom/SC_rgb_small_odd.dcm"));
        var fromYbr = ImageRenderer.Render(ybr.Dataset, PixelDecoder.Decode(ybr));
        // pydicom's SC_ybr_full_422 is its 100×100 RGB test pattern: the top-left band is red.
        Assert.True(fromYbr.Pixels[0] > 200 && fromYbr.Pixels[1] < 50 && fromYbr.Pixels[2] < 50, $"got {fromYbr.Pixels[0]},{fromYbr.Pixels[1]},{fromYbr.Pixels[2]}");

        var png = rgb.ToPng();
        using var decoded = SKBitmap.Decode(png);
        Assert.Equal((rgb.Width, rgb.Height), (decoded.Width, decoded.Height));
        var thumb = rgb.Thumbnail(64);
        Assert.True(Math.Max(thumb.Width, thumb.Height) <= 64);
    }

    [Fact]
    public void Modality_LUT_rescale_is_used_for_the_dataset_window()
    {
        using var file = DicomFile.Open(SharedData.Require("dicom/wg04/REF/../RLE/CT1_RLE"));
        var image = ImageRenderer.Render(file.Dataset, PixelDecoder.Decode(file));
        Assert.Equal(512 * 512, image.Pixels.Length);
        Assert.True(image.Pixels.Distinct().Count() > 50, "a windowed CT has a spread of grey levels");
    }
}
