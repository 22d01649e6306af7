using SkiaSharp;

namespace Casebook.Cli;

public static partial class Commands
{
    /// <summary>
    /// Builds ./casebook-data from the synthetic demo corpus in demo/ (reports written for the demo, grey PNG
    /// "radiographs" drawn here), then runs a few example searches and prints them.
    /// </summary>
    static int Demo(Args a)
    {
        var corpusSource = a.Get("corpus") ?? FindDemoFolder();
        var work = Path.GetFullPath(a.Get("work") ?? Path.Combine(".casebook", "demo-corpus"));
        var dbDir = a.Get("db") ?? DefaultDb;
        a.EnsureAllUsed();
        Console.Error.WriteLine($"casebook demo: synthetic corpus from {corpusSource} → {work}");
        CopyDirectory(corpusSource, work);
        DrawDemoImages(work);
        MakeScansAndDictations(work);
        var dicomSamples = CopyDicomSamples(work);

        using var db = CasebookDb.Open(dbDir);
        var bar = new ProgressBar();
        var inputs = new List<string> { work };
        if (dicomSamples.Count > 0) inputs.Add(Path.Combine(work, "dicom")); // the corpus folder has a manifest, so DICOM comes as its own folder
        var result = db.Ingest(inputs, new Ingest.IngestOptions { Message = "demo corpus" }, bar);
        bar.Finish();
        db.SaveIndexes();
        foreach (var e in result.Errors) Console.Error.WriteLine($"casebook: {e.File}: {e.Reason}");
        var stats = db.Stats();
        Console.Out.WriteLine($"Casebook demo database at {Path.GetFullPath(dbDir)}: {stats.Studies} studies, {stats.Segments} segments, version {stats.Version}");
        Console.Out.WriteLine("(all demo data is synthetic)");

        void Show(string title, Search.SearchQuery q)
        {
            Console.Out.WriteLine();
            Console.Out.WriteLine($"$ {title}");
            PrintSearch(q.Execute());
        }
        Show("./casebook search \"fluid around the lung\"", db.Search("fluid around the lung").Limit(3));
        Show("./casebook search \"SOB and leg swelling\" --mode bm25", db.Search("SOB and leg swelling").Mode(Casebook.Search.SearchMode.Bm25).Limit(3));
        Show("./casebook search \"lung infection\" --where \"modality = 'CT'\"", db.Search("lung infection").Where("modality = 'CT'").Limit(3));
        Show("./casebook search \"kidney stone with hydronephrosis\"   # a scanned PDF, read by OCR", db.Search("kidney stone with hydronephrosis").Limit(3));
        Show("./casebook search \"pneumonia\" --where \"kind = 'dictation_segment'\"   # a dictation, transcribed", db.Search("pneumonia").Where("kind = 'dictation_segment'").Limit(3));
        Show("./casebook search \"broken wrist after a fall\" --where \"age_band = '80-84' AND sex = 'F'\"", db.Search("broken wrist after a fall").Where("age_band = '80-84' AND sex = 'F'").Limit(3));
        var probe = Path.Combine(work, "images", "cr-0001.png");
        Show($"./casebook search --image {Path.GetRelativePath(Environment.CurrentDirectory, probe)}", db.SearchImage(File.ReadAllBytes(probe)).Limit(3));
        if (dicomSamples.Count > 0)
            Show($"./casebook search --image {Path.GetRelativePath(Environment.CurrentDirectory, dicomSamples[^1])}", db.SearchImage(File.ReadAllBytes(dicomSamples[^1])).Limit(3));
        return result.Errors.Count > 0 ? 1 : 0;
    }

    /// <summary>
    /// DICOM ingest: Debian's python3-pydicom ships public test files (synthetic "CompressedSamples" patients); the demo copies
    /// CT_small.dcm and MR_small.dcm into the corpus's dicom/ folder when present. Ingest de-identifies them before storing.
    /// </summary>
    static List<string> CopyDicomSamples(string work)
    {
        const string Source = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
        var copied = new List<string>();
        foreach (var name in new[] { "CT_small.dcm", "MR_small.dcm" })
        {
            var from = Path.Combine(Source, name);
            if (!File.Exists(from)) continue;
            var to = Path.Combine(work, "dicom", name);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            if (!File.Exists(to)) File.Copy(from, to);
            copied.Add(to);
        }
        if (copied.Count == 0) Console.Error.WriteLine($"casebook demo: {Source} not found (install python3-pydicom): no DICOM samples");
        return copied;
    }

    /// <summary>
    /// Issue 4 in the demo: scans/*.txt become image-only PDFs (rendered at 300 dpi, so ingest must OCR them) and
    /// dictations/*.txt become WAV dictations spoken by espeak-ng (so ingest must transcribe them).
    /// </summary>
    static void MakeScansAndDictations(string work)
    {
        foreach (var text in Directory.EnumerateFiles(Path.Combine(work, "scans"), "*.txt"))
        {
            var pdf = Path.ChangeExtension(text, ".pdf");
            if (File.Exists(pdf)) continue;
            var lines = File.ReadAllLines(text).SelectMany(l => l.Length == 0 ? [""] : Extract.Documents.SyntheticScan.Wrap(l, 80)).ToList();
            File.WriteAllBytes(pdf, Extract.Documents.SyntheticScan.ScannedPdf([Extract.Documents.SyntheticScan.RenderPng(lines, 300)]));
        }
        foreach (var text in Directory.EnumerateFiles(Path.Combine(work, "dictations"), "*.txt"))
        {
            var wav = Path.ChangeExtension(text, ".wav");
            if (File.Exists(wav)) continue;
            try
            {
                var r = Extract.ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", wav, File.ReadAllText(text).Trim()], TimeSpan.FromMinutes(1));
                if (r.ExitCode != 0) Console.Error.WriteLine($"casebook demo: espeak-ng failed ({r.ExitCode}): {r.Stderr.Trim()}");
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine($"casebook demo: espeak-ng unavailable ({e.Message}); the dictation study will be reported as an error");
            }
        }
    }

    static string FindDemoFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "demo");
            if (File.Exists(Path.Combine(candidate, "studies.csv"))) return candidate;
        }
        var here = Path.Combine(Environment.CurrentDirectory, "demo");
        return File.Exists(Path.Combine(here, "studies.csv")) ? here : throw new InvalidOperationException("demo corpus folder (demo/studies.csv) not found; pass --corpus DIR");
    }

    static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // Copy only when different, so that re-running the demo re-ingests nothing.
            if (!File.Exists(target) || !File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(file))) File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>
    /// Draws a deterministic synthetic grey frontal "chest film" per study that lists an image: two lungs and a heart,
    /// with the report's main finding painted in (effusion = white base, pneumothorax = dark rim, cardiomegaly = big heart).
    /// </summary>
    static void DrawDemoImages(string work)
    {
        var manifest = File.ReadAllLines(Path.Combine(work, "studies.csv")).Skip(1);
        foreach (var line in manifest)
        {
            var cols = line.Split(',');
            if (cols.Length < 6 || string.IsNullOrWhiteSpace(cols[5])) continue;
            var path = Path.Combine(work, cols[5]);
            if (File.Exists(path)) continue;
            var report = File.ReadAllText(Path.Combine(work, cols[4])).ToLowerInvariant();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var seed = cols[0].Aggregate(17, (h, ch) => h * 31 + ch);
            var rng = new Random(seed);
            using var surface = SKSurface.Create(new SKImageInfo(256, 256, SKColorType.Gray8, SKAlphaType.Opaque));
            var canvas = surface.Canvas;
            canvas.Clear(new SKColor(20, 20, 20));
            using var paint = new SKPaint { IsAntialias = true };
            paint.Color = new SKColor(210, 210, 210); canvas.DrawRect(30, 20, 196, 220, paint);          // soft tissue
            paint.Color = new SKColor(60, 60, 60);
            canvas.DrawOval(new SKRect(45, 40, 120, 210), paint); canvas.DrawOval(new SKRect(136, 40, 211, 210), paint); // lungs
            var heart = report.Contains("cardiomegaly") ? 46 : 28;
            paint.Color = new SKColor(225, 225, 225); canvas.DrawCircle(140, 165, heart, paint);
            if (report.Contains("effusion")) { paint.Color = new SKColor(235, 235, 235); canvas.DrawRect(45, 175, 75, 35, paint); }
            if (report.Contains("pneumothorax")) { paint.Color = new SKColor(5, 5, 5); canvas.DrawOval(new SKRect(190, 45, 211, 180), paint); }
            if (report.Contains("consolidation") || report.Contains("pneumonia")) { paint.Color = new SKColor(170, 170, 170); canvas.DrawCircle(170, 170, 22, paint); }
            if (report.Contains("fracture")) { canvas.Clear(new SKColor(15, 15, 15)); paint.Color = new SKColor(230, 230, 230); canvas.DrawRect(100, 10, 40, 230, paint); paint.Color = new SKColor(15, 15, 15); canvas.DrawRect(95, 150, 55, 4, paint); }
            if (cols[2] == "US") { canvas.Clear(SKColors.Black); paint.Color = new SKColor(120, 120, 120); canvas.DrawOval(new SKRect(60, 80, 200, 180), paint); paint.Color = SKColors.White; canvas.DrawCircle(120, 130, 10, paint); canvas.DrawCircle(150, 140, 8, paint); }
            for (var i = 0; i < 400; i++) { paint.Color = new SKColor((byte)rng.Next(0, 255), (byte)rng.Next(0, 255), (byte)rng.Next(0, 255), 25); canvas.DrawPoint(rng.Next(256), rng.Next(256), paint); }
            using var image = surface.Snapshot();
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, data.ToArray());
        }
    }
}
