using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;
using Xunit;

namespace Casebook.Tests.Extract.Dicom.Pixels;

/// <summary>Malformed codestreams and lying attributes give a <see cref="PixelDecodeException"/> — never a crash, a hang or an unbounded allocation.</summary>
public class MalformedPixelTests
{
    static DicomImageDescription Mono16(int rows = 512, int cols = 512, int pr = 1) => new(rows, cols, 1, 16, 16, 15, pr, 0, "MONOCHROME2", 1);

    static byte[] Frame(string relative)
    {
        using var file = DicomFile.Open(SharedData.Require(relative));
        var fragments = file.PixelData!.Fragments!;
        return fragments.ReadFrame(fragments.GetFrames()[0]);
    }

    public static IEnumerable<object[]> Codecs() =>
    [
        ["dicom/wg04/JPLL/CT1_JPLL", TransferSyntaxUids.JpegLossless],
        ["dicom/wg04/JPLY/MR1_JPLY", TransferSyntaxUids.JpegExtended],
        ["dicom/wg04/JLSL/CT1_JLSL", TransferSyntaxUids.JpegLsLossless],
        ["dicom/wg04/J2KR/CT1_J2KR", TransferSyntaxUids.Jpeg2000Lossless],
        ["dicom/wg04/RLE/CT1_RLE", TransferSyntaxUids.RleLossless],
    ];

    static IPixelFrameDecoder DecoderFor(string uid) => FrameDecoders.Find(uid)!;

    static DicomImageDescription ImageOf(string relative)
    {
        using var file = DicomFile.Open(SharedData.Require(relative));
        return DicomImageDescription.From(file.Dataset);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Truncated_codestreams_fail_clearly(string relative, string uid)
    {
        var frame = Frame(relative);
        var image = ImageOf(relative);
        var decoder = DecoderFor(uid);
        var destination = new byte[image.FrameBytes];
        foreach (var keep in new[] { 0, 1, 2, 10, 64, 200, frame.Length / 3, frame.Length / 2 })
        {
            var cut = frame.AsSpan(0, keep).ToArray();
            // Some decoders fill a truncated tail with zeros (JPEG: T.81 allows stopping early); the rest must throw our exception.
            try { decoder.DecodeFrame(cut, image, destination); }
            catch (PixelDecodeException e) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); }
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Corrupted_codestreams_never_crash(string relative, string uid)
    {
        var frame = Frame(relative);
        var image = ImageOf(relative);
        var decoder = DecoderFor(uid);
        var destination = new byte[image.FrameBytes];
        var random = new Random(1234);
        for (var round = 0; round < 40; round++)
        {
            var bad = (byte[])frame.Clone();
            // Corrupt a few bytes in the header region and in the entropy-coded data.
            for (var k = 0; k < 4; k++) bad[random.Next(Math.Min(bad.Length, 300))] = (byte)random.Next(256);
            for (var k = 0; k < 8; k++) bad[random.Next(bad.Length)] = (byte)random.Next(256);
            try { decoder.DecodeFrame(bad, image, destination); }
            catch (PixelDecodeException) { }
        }
    }

    [Fact]
    public void Codestream_size_that_disagrees_with_the_dataset_is_refused_before_decoding()
    {
        var frame = Frame("dicom/wg04/J2KR/CT1_J2KR");
        var ex = Assert.Throws<PixelDecodeException>(() => FrameDecoders.OpenJpeg.DecodeFrame(frame, Mono16(256, 256), new byte[256 * 256 * 2]));
        Assert.Contains("512×512", ex.Message);
        var ls = Frame("dicom/wg04/JLSL/CT1_JLSL");
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.CharLs.DecodeFrame(ls, Mono16(100, 100), new byte[100 * 100 * 2]));
        var jpeg = Frame("dicom/wg04/JPLL/CT1_JPLL");
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.ManagedJpeg.DecodeFrame(jpeg, Mono16(100, 100), new byte[100 * 100 * 2]));
    }

    [Fact]
    public void Garbage_instead_of_a_codestream_is_rejected()
    {
        var junk = new byte[1000];
        new Random(7).NextBytes(junk);
        var image = Mono16(16, 16);
        var dst = new byte[16 * 16 * 2];
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.ManagedJpeg.DecodeFrame(junk, image, dst));
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.CharLs.DecodeFrame(junk, image, dst));
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.OpenJpeg.DecodeFrame(junk, image, dst));
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.Rle.DecodeFrame(junk, image, dst));
        Assert.Throws<PixelDecodeException>(() => FrameDecoders.ManagedJpeg.DecodeFrame([], image, dst));
    }

    [Fact]
    public void A_huge_declared_size_is_refused_without_allocating()
    {
        // The limit is checked against Rows × Columns × Samples × Frames before any buffer exists, so a lying header
        // (65535×65535×thousands of frames) costs nothing; here a real 512×512 CT meets a 1 KiB limit.
        using var file = DicomFile.Open(SharedData.Require("dicom/wg04/RLE/CT1_RLE"));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<PixelDecodeException>(() => PixelDecoder.Decode(file, new PixelDecodeOptions { MaxDecodedBytes = 1 << 10 }));
        Assert.Contains("limit", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 * 1024, "refusal must come before the decode buffers are allocated");
    }

    [Fact]
    public void Native_pixel_data_shorter_than_declared_names_the_frame()
    {
        var ex = Assert.Throws<PixelDecodeException>(() => PixelTestFiles.Decode(SharedData.Require("dicom/fodicom/GH1146.dcm")));
        Assert.Contains("frame 0", ex.Message);
    }

    [Fact]
    public void Cancellation_stops_between_frames()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using var file = DicomFile.Open(SharedData.Require("dicom/pydicom/SC_rgb_rle_2frame.dcm"));
        Assert.Throws<OperationCanceledException>(() => PixelDecoder.Decode(file, new PixelDecodeOptions { Cancellation = cts.Token }));
    }
}
