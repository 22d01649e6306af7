namespace Casebook.Extract.Dicom.Pixels;

/// <summary>Limits and choices for <see cref="PixelDecoder"/>.</summary>
public sealed record PixelDecodeOptions
{
    /// <summary>Refuse to decode when the decoded size (all requested frames, stored type) exceeds this, before allocating anything.</summary>
    public long MaxDecodedBytes { get; init; } = 1L << 30;
    /// <summary>First frame to decode (0-based).</summary>
    public int FirstFrame { get; init; }
    /// <summary>How many frames; null for all from <see cref="FirstFrame"/>.</summary>
    public int? FrameCount { get; init; }
    /// <summary>Decoder to use instead of the registry's choice (benchmarks, tests).</summary>
    public IPixelFrameDecoder? Decoder { get; init; }
    public CancellationToken Cancellation { get; init; }

    public static PixelDecodeOptions Default { get; } = new();
}

/// <summary>
/// Decodes a file's pixel data into <see cref="PixelData"/>: frames located (native offsets, or the reader's
/// fragments/offset tables), each decoded by the transfer syntax's codec to native layout, then turned into stored values.
/// </summary>
public static class PixelDecoder
{
    public static PixelData Decode(DicomFile file, PixelDecodeOptions? options = null)
    {
        options ??= PixelDecodeOptions.Default;
        var element = file.PixelData ?? throw new PixelDecodeException("the dataset has no Pixel Data (7FE0,0010)");
        if (element.Tag != DicomTag.PixelData) throw new PixelDecodeException($"{element.Keyword} {element.Tag} (float pixel data) is not supported; only (7FE0,0010)");
        var image = DicomImageDescription.From(file.Dataset);
        NativeLayout.Validate(image);
        var uid = file.TransferSyntax.Uid;
        var decoder = options.Decoder ?? FrameDecoders.Find(uid)
            ?? throw new PixelDecodeException($"no decoder for transfer syntax {file.TransferSyntax}");
        if (decoder is NativeFrameDecoder && file.TransferSyntax.BigEndian) decoder = new NativeFrameDecoder { BigEndian = true };

        var first = options.FirstFrame;
        var total = image.NumberOfFrames;
        if (first < 0 || first >= total) throw new PixelDecodeException($"frame {first} requested, the image has {total}");
        var count = Math.Min(options.FrameCount ?? total - first, total - first);
        var type = PixelData.TypeFor(image.BitsAllocated, image.PixelRepresentation);
        var frameStored = (long)image.Rows * image.Columns * image.SamplesPerPixel * PixelData.SizeOf(type);
        var totalBytes = frameStored * count;
        if (totalBytes > options.MaxDecodedBytes || totalBytes > Array.MaxLength)
            throw new PixelDecodeException($"decoded pixel data would take {totalBytes} bytes ({count} frames of {image.Rows}×{image.Columns}×{image.SamplesPerPixel}), over the {options.MaxDecodedBytes}-byte limit");

        var stored = new byte[totalBytes];
        var photometric = image.PhotometricInterpretation;
        if (element.Fragments is { } fragments)
        {
            // Fuzz finding (fuzz/regressions/jpeg-bits-allocated-1.dcm): codecs write whole-byte samples (FrameWriter's unit is
            // Bits Allocated / 8), so Bits Allocated 1 gave unit 0, garbage, and an ArgumentOutOfRangeException for frames under
            // 4 bytes. PS3.5 §8.1.1: 1-bit packing is native only; encapsulated uncompressed (native frames) keeps it.
            if (image.BitsAllocated == 1 && decoder is not NativeFrameDecoder)
                throw new PixelDecodeException($"Bits Allocated (0028,0100) 1 is not valid for compressed transfer syntax {file.TransferSyntax}");
            var frames = fragments.GetFrames();
            if (frames.Count < first + count) throw new PixelDecodeException($"encapsulated pixel data holds {frames.Count} frame(s), Number of Frames (0028,0008) says {total}");
            var native = new byte[image.FrameBytes];
            for (var f = 0; f < count; f++)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                var encoded = fragments.ReadFrame(frames[first + f]);
                native.AsSpan().Clear();
                photometric = decoder.DecodeFrame(encoded, image, native);
                NativeLayout.ToStored(native, image, stored.AsSpan((int)(f * frameStored), (int)frameStored), clampUnsigned: !TransferSyntaxUids.IsLossless(uid));
            }
        }
        else
        {
            if (file.TransferSyntax.Encapsulated && uid != TransferSyntaxUids.EncapsulatedUncompressed)
                throw new PixelDecodeException($"transfer syntax {file.TransferSyntax} is encapsulated but Pixel Data has a defined length (not fragments)");
            var raw = element.RawValue.Span;
            if (image.BitsAllocated == 1)
            {
                var bits = (long)image.Rows * image.Columns * image.SamplesPerPixel;
                for (var f = 0; f < count; f++)
                    NativeLayout.UnpackBits(raw, (first + f) * bits, image, stored.AsSpan((int)(f * frameStored), (int)frameStored));
            }
            else if (IsSubsampled422(image))
            {
                // PS3.3 C.7.6.3.1.2: native YBR_FULL_422 stores Y1 Y2 Cb Cr per horizontal pair; expand to three samples per pixel.
                var unit = image.BitsAllocated / 8;
                var frameBytes = (long)image.Rows * image.Columns * 2 * unit;
                var full = image with { PlanarConfiguration = 0 };
                var native = new byte[full.FrameBytes];
                for (var f = 0; f < count; f++)
                {
                    var start = (first + f) * frameBytes;
                    if (start + frameBytes > raw.Length) throw Short(raw.Length, start + frameBytes, first + f);
                    var src = raw.Slice((int)start, (int)frameBytes);
                    if (file.TransferSyntax.BigEndian) { var tmp = src.ToArray(); NativeFrameDecoder.SwapUnits(tmp, unit); src = tmp; }
                    Expand422(src, native, image.Rows * image.Columns / 2, unit);
                    NativeLayout.ToStored(native, full, stored.AsSpan((int)(f * frameStored), (int)frameStored));
                }
                photometric = "YBR_FULL";
            }
            else
            {
                var frameBytes = image.FrameBytes;
                var native = new byte[frameBytes];
                // PS3.5 §7.3 / pydicom: in big endian files 8-bit data written as OW was swapped in 16-bit words.
                var swapWords = file.TransferSyntax.BigEndian && image.BitsAllocated == 8 && element.VR == DicomVR.OW;
                for (var f = 0; f < count; f++)
                {
                    options.Cancellation.ThrowIfCancellationRequested();
                    var start = (first + f) * frameBytes;
                    if (swapWords)
                    {
                        // Word pairs may straddle frames when a frame has an odd length; swap the whole value view once.
                        var pairStart = start & ~1L;
                        var end = Math.Min(raw.Length, (start + frameBytes + 1) & ~1L);
                        if (start + frameBytes > raw.Length) throw Short(raw.Length, start + frameBytes, first + f);
                        var tmp = raw[(int)pairStart..(int)end].ToArray();
                        NativeFrameDecoder.SwapUnits(tmp, 2);
                        tmp.AsSpan((int)(start - pairStart), (int)frameBytes).CopyTo(native);
                        photometric = image.PhotometricInterpretation;
                    }
                    else
                    {
                        if (start + frameBytes > raw.Length) throw Short(raw.Length, start + frameBytes, first + f);
                        photometric = decoder.DecodeFrame(raw.Slice((int)start, (int)frameBytes), image, native);
                    }
                    NativeLayout.ToStored(native, image, stored.AsSpan((int)(f * frameStored), (int)frameStored));
                }
            }
        }
        var (bitsStored, _) = NativeLayout.StoredBits(image);
        return new PixelData(count, image.Rows, image.Columns, image.SamplesPerPixel, type, bitsStored, photometric, stored);
    }

    static bool IsSubsampled422(DicomImageDescription image) =>
        image.PhotometricInterpretation.Trim() == "YBR_FULL_422" && image.SamplesPerPixel == 3 && image.Columns % 2 == 0 && image.BitsAllocated is 8 or 16;

    static void Expand422(ReadOnlySpan<byte> src, Span<byte> dst, int pairs, int unit)
    {
        for (var p = 0; p < pairs; p++)
        {
            var s = src.Slice(p * 4 * unit, 4 * unit);
            var d = dst.Slice(p * 6 * unit, 6 * unit);
            var y1 = s[..unit]; var y2 = s.Slice(unit, unit); var cb = s.Slice(2 * unit, unit); var cr = s.Slice(3 * unit, unit);
            y1.CopyTo(d); cb.CopyTo(d[unit..]); cr.CopyTo(d[(2 * unit)..]);
            y2.CopyTo(d[(3 * unit)..]); cb.CopyTo(d[(4 * unit)..]); cr.CopyTo(d[(5 * unit)..]);
        }
    }

    static PixelDecodeException Short(long have, long need, int frame) =>
        new($"Pixel Data (7FE0,0010) holds {have} bytes; frame {frame} needs bytes up to {need} (truncated, or the Image Pixel attributes are wrong)");

    /// <summary>Opens <paramref name="path"/> and decodes all frames.</summary>
    public static PixelData Decode(string path, PixelDecodeOptions? options = null)
    {
        using var file = DicomFile.Open(path);
        if (file.PixelData == null && file.Problems.Count > 0) throw new PixelDecodeException($"{path}: {file.Problems[0].Message}");
        return Decode(file, options);
    }
}
