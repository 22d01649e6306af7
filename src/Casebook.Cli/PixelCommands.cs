using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Cli;

/// <summary>`casebook dicom pixels FILE --out F.npy [--frame N] [--png F.png [--window C,W | --preset NAME]]`.</summary>
public static class PixelCommands
{
    public static int Pixels(string[] args)
    {
        try
        {
            var a = new Args(args, new HashSet<string>());
            if (a.Positional.Count != 1) throw new UsageException("usage: casebook dicom pixels FILE --out F.npy [--frame N] [--png F.png] [--window CENTER,WIDTH | --preset NAME]");
            var path = a.Positional[0];
            var outPath = a.Get("out");
            var png = a.Get("png");
            var frame = a.Long("frame");
            var window = a.Get("window");
            var preset = a.Get("preset");
            a.EnsureAllUsed();
            if (outPath == null && png == null) throw new UsageException("--out F.npy (or --png F.png) is required");
            if (!File.Exists(path)) { Console.Error.WriteLine($"casebook: no such file: {path}"); return 2; }

            using var file = DicomFile.Open(path);
            if (file.PixelData == null)
            {
                var why = file.Problems.Count > 0 ? file.Problems[0].Message : "the dataset has no Pixel Data (7FE0,0010)";
                Console.Error.WriteLine($"casebook: {path}: {why}");
                return 1;
            }
            var options = frame is { } f ? new PixelDecodeOptions { FirstFrame = (int)f, FrameCount = 1 } : PixelDecodeOptions.Default;
            var pixels = PixelDecoder.Decode(file, options);
            if (outPath != null) NpyWriter.Write(outPath, pixels);
            if (png != null)
            {
                var render = new RenderOptions { Preset = preset };
                if (window != null)
                {
                    var parts = window.Split(',');
                    if (parts.Length != 2 || !double.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var c) || !double.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var w))
                        throw new UsageException("--window must be CENTER,WIDTH");
                    render = render with { WindowCenter = c, WindowWidth = w };
                }
                var image = ImageRenderer.Render(file.Dataset, pixels, 0, render);
                File.WriteAllBytes(png, image.ToPng());
            }
            Console.Out.WriteLine($"{pixels.Frames}×{pixels.Rows}×{pixels.Columns}×{pixels.SamplesPerPixel} {NpyWriter.Descr(pixels.DataType)} ({pixels.PhotometricInterpretation}, {file.TransferSyntax.Name})");
            return 0;
        }
        catch (UsageException e) { Console.Error.WriteLine($"casebook: {e.Message}"); return 2; }
        catch (PixelDecodeException e) { Console.Error.WriteLine($"casebook: {args.FirstOrDefault()}: {e.Message}"); return 1; }
        catch (DicomParseException e) { Console.Error.WriteLine($"casebook: {args.FirstOrDefault()}: {e.Message}"); return 1; }
    }
}
