using Xunit;
using Casebook.Embed;

namespace Casebook.Tests.Embed;

[Collection(EmbeddingCollection.Name)]
public sealed class ResNet18ImageEmbedderTests(EmbeddingFixture models)
{
    static byte[] BreastMnist(string file) => File.ReadAllBytes(Path.Combine(SharedData.Require("images/breastmnist"), file));

    [Fact]
    public void Breastmnist_png_gives_a_512_d_unit_vector()
    {
        var v = models.Image.Embed([BreastMnist("train_0000.png")])[0];
        Assert.Equal(512, v.Length);
        Assert.Equal(512, models.Image.Model.Dimension);
        Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
        Assert.All(v, x => Assert.True(x >= 0)); // average-pooled ReLU features are non-negative
    }

    [Fact]
    public void Decoded_pixels_embed_like_the_encoded_png()
    {
        var png = BreastMnist("test_0003.png");
        var decoded = ImageDecoder.Decode(png);
        Assert.True(decoded.IsGrey);
        Assert.Equal(28, decoded.Width);
        var fromPng = models.Image.Embed([png])[0];
        var fromPixels = models.Image.EmbedPixels(decoded);
        Assert.Equal(fromPng, fromPixels);
        var rgb = new byte[decoded.Pixels.Length * 3];
        for (var i = 0; i < decoded.Pixels.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = decoded.Pixels[i];
        var fromRgb = models.Image.EmbedPixels(DecodedImage.Rgb(28, 28, rgb));
        for (var k = 0; k < 512; k++) Assert.Equal(fromPng[k], fromRgb[k], 4);
    }

    [Fact]
    public void Different_images_give_different_vectors()
    {
        var v = models.Image.Embed([BreastMnist("train_0000.png"), BreastMnist("train_0001.png")]);
        Assert.True(VectorMath.Cosine(v[0], v[1]) < 0.9999);
    }

    [Fact]
    public void Undecodable_bytes_name_the_input_index()
    {
        var good = BreastMnist("train_0000.png");
        var error = Assert.Throws<InvalidDataException>(() => models.Image.Embed([good, "not an image"u8.ToArray()]));
        Assert.Contains("image 1", error.Message);
        var truncated = Assert.Throws<InvalidDataException>(() => models.Image.Embed([good[..(good.Length / 2)]]));
        Assert.Contains("image 0", truncated.Message);
        var empty = Assert.Throws<InvalidDataException>(() => models.Image.Embed([good, good, []]));
        Assert.Contains("image 2", empty.Message);
    }

    [Fact]
    public void Grey_normalisation_stretches_contrast()
    {
        var pixels = new byte[100];
        for (var i = 0; i < 100; i++) pixels[i] = (byte)(100 + i / 4); // 100..124
        var stretched = ImagePreprocessor.PercentileStretch(pixels, 0, 100);
        Assert.Equal(0, stretched.Min());
        Assert.Equal(255, stretched.Max());
        var equalised = ImagePreprocessor.Equalise(pixels);
        Assert.Equal(0, equalised.Min());
        Assert.Equal(255, equalised.Max());
    }
}
