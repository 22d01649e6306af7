using System.Diagnostics;
using System.Globalization;
using System.Text;
using Casebook.Eval;
using Casebook.Extract;
using Casebook.Extract.Audio;
using Casebook.Extract.Documents;

namespace Casebook.Bench;

/// <summary>
/// Scanned reports and dictations: OCR character error rate on pages rendered from real report text (IU X-ray,
/// MTSamples) and degraded like scans, at 300 and 150 dpi; ASR word error rate per engine on jfk.wav (real speech)
/// and on dictations synthesised with espeak-ng from PriMock57 notes; pages per second and real-time factor.
/// </summary>
public static class DocumentBenchmarks
{
    const int PagesPerDpi = 26, DictationCount = 20, DictationWords = 40;
    const string JfkReference = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

    public static string Run(string sharedDataDir, string workDir)
    {
        var work = Directory.CreateDirectory(Path.Combine(workDir, "documents")).FullName;
        var sb = new StringBuilder();
        sb.AppendLine("## Scanned reports (OCR)");
        sb.AppendLine();
        sb.AppendLine(Ocr(sharedDataDir, work));
        sb.AppendLine("## Dictations (speech to text)");
        sb.AppendLine();
        sb.AppendLine(Asr(sharedDataDir, work));
        return sb.ToString();
    }

    // ---- OCR ----

    sealed record PageCase(string Corpus, string Degradation, List<string> Lines, SyntheticScan.Degradation Spoil);

    static List<PageCase> Pages(string shared, int count, int seed)
    {
        var rng = new Random(seed);
        var iu = ReportCorpora.IuXray(shared);
        var mt = ReportCorpora.MtSamples(shared);
        int perPage = SyntheticScan.LinesPerPage();
        string[] kinds = ["clean", "skew", "noise+blur", "skew+noise+blur", "turned"];
        var pages = new List<PageCase>();
        for (int i = 0; i < count; i++)
        {
            string corpus; string text;
            if (i % 2 == 0)
            {
                // IU X-ray reports are short: several per page, as on a printed worklist.
                corpus = "IU X-ray";
                var parts = new List<string>();
                while (parts.Sum(p => p.Length) < 2600) parts.Add(iu[rng.Next(iu.Count)].Replace("XXXX", "xxxx"));
                text = string.Join("\n\n", parts);
            }
            else
            {
                corpus = "MTSamples";
                text = mt[rng.Next(mt.Count)].Replace(",  ", "\n").Replace(".,", ".\n");
            }
            var lines = SyntheticScan.Wrap(text, 78).Take(perPage).ToList();
            var kind = kinds[i % kinds.Length];
            double skew = (rng.NextDouble() * 2 - 1) * 2.5; // up to ±2.5°
            var spoil = kind switch
            {
                "skew" => new SyntheticScan.Degradation(SkewDegrees: skew),
                "noise+blur" => new SyntheticScan.Degradation(Blur: 0.8, Noise: 0.5, Seed: i),
                "skew+noise+blur" => new SyntheticScan.Degradation(SkewDegrees: skew, Blur: 0.8, Noise: 0.5, Seed: i),
                "turned" => new SyntheticScan.Degradation(SkewDegrees: skew / 2, TurnDegrees: i % 4 == 1 ? 90 : 180, Noise: 0.3, Seed: i),
                _ => new SyntheticScan.Degradation(),
            };
            pages.Add(new PageCase(corpus, kind, lines, spoil));
        }
        return pages;
    }

    /// <summary>The OCR half alone (markdown).</summary>
    public static string Ocr(string shared, string work)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Method: {PagesPerDpi} A4 pages per resolution, each filled with real report text (IU X-ray reports, several per page;");
        sb.AppendLine("MTSamples notes), drawn in DejaVu Sans 11 pt with SkiaSharp and spoiled like scans: clean, skewed up to ±2.5°,");
        sb.AppendLine("Gaussian grain + specks + blur (σ 0.8 px at 300 dpi), both, or turned 90°/180°. Pages of one resolution go into one");
        sb.AppendLine("multi-page TIFF (resolution tags set) and through `DocumentTextExtractor` (Tesseract 5 `--psm 3`");
        sb.AppendLine("LSTM; OSD and ImageMagick deskew only when a page reads poorly or is landscape). CER = character edits / reference characters after collapsing");
        sb.AppendLine("whitespace (line breaks do not count). Pages/s is wall time over the pages, parallel over the machine's cores.");
        sb.AppendLine();
        sb.AppendLine("| dpi | pages | CER (all) | CER clean | CER skew | CER noise+blur | CER skew+noise+blur | CER turned | mean word conf | pages/s |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var extractor = new DocumentTextExtractor();
        foreach (var dpi in new[] { 300, 150 })
        {
            var pages = Pages(shared, PagesPerDpi, seed: dpi);
            var pngs = new List<string>();
            for (int i = 0; i < pages.Count; i++)
            {
                var png = Path.Combine(work, $"page{dpi}-{i:00}.png");
                File.WriteAllBytes(png, SyntheticScan.RenderPng(pages[i].Lines, dpi, pages[i].Spoil));
                pngs.Add(png);
            }
            var tiff = Path.Combine(work, $"scans{dpi}.tif");
            SyntheticScan.MultiPageTiff(pngs, tiff, dpi);
            var sw = Stopwatch.StartNew();
            var doc = extractor.Extract(tiff);
            var seconds = sw.Elapsed.TotalSeconds;
            var byKind = new Dictionary<string, (long E, long N)>();
            long te = 0, tn = 0;
            for (int i = 0; i < pages.Count; i++)
            {
                var (e, n) = RecognitionMetrics.CharacterErrors(string.Join("\n", pages[i].Lines), doc.Pages[i].Text);
                te += e; tn += n;
                var k = byKind.GetValueOrDefault(pages[i].Degradation);
                byKind[pages[i].Degradation] = (k.E + e, k.N + n);
            }
            string Cer(string kind) => byKind.TryGetValue(kind, out var v) && v.N > 0 ? Pct((double)v.E / v.N) : "–";
            sb.AppendLine($"| {dpi} | {pages.Count} | **{Pct((double)te / tn)}** | {Cer("clean")} | {Cer("skew")} | {Cer("noise+blur")} | {Cer("skew+noise+blur")} | {Cer("turned")} | {doc.MeanConfidence:0.0} | {pages.Count / seconds:0.00} |");
            foreach (var png in pngs) File.Delete(png);
        }
        // Text-layer PDFs need no OCR: measure PdfPig alone on a 50-page typed report.
        var typed = Pages(shared, 50, seed: 7).Select(p => (IReadOnlyList<string>)p.Lines).ToList();
        var pdf = Path.Combine(work, "typed.pdf");
        File.WriteAllBytes(pdf, SyntheticScan.TextPdf(typed));
        var t = Stopwatch.StartNew();
        var typedDoc = extractor.Extract(pdf);
        var typedSeconds = t.Elapsed.TotalSeconds;
        long ce = 0, cn = 0;
        for (int i = 0; i < typed.Count; i++) { var (e, n) = RecognitionMetrics.CharacterErrors(string.Join("\n", typed[i]), typedDoc.Pages[i].Text); ce += e; cn += n; }
        sb.AppendLine();
        sb.AppendLine($"Text-layer PDF (50 pages, Helvetica, PdfPig): CER {Pct((double)ce / cn)}, {typed.Count / typedSeconds:0} pages/s.");
        return sb.ToString();
    }

    // ---- ASR ----

    sealed record Clip(string Name, string Path, string Reference);

    /// <summary>The speech half alone (markdown).</summary>
    public static string Asr(string shared, string work)
    {
        var sb = new StringBuilder();
        var dir = Directory.CreateDirectory(Path.Combine(work, "dictations")).FullName;
        var clips = new List<Clip>();
        foreach (var (name, note) in ReportCorpora.PriMockNotes(shared).Where((_, i) => i % 3 == 1).Take(DictationCount))
        {
            var text = ReportCorpora.Dictation(note, DictationWords);
            var wav = Path.Combine(dir, name + ".wav");
            var r = ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", wav, text], TimeSpan.FromMinutes(1));
            if (r.ExitCode != 0) throw new InvalidOperationException("espeak-ng failed: " + r.Stderr);
            clips.Add(new Clip(name, wav, text));
        }
        var jfk = new Clip("jfk", Path.Combine(shared, "audio", "jfk.wav"), JfkReference);

        var vocab = DictationLanguageModel.ReadDictionaryWords(Path.Combine(PocketSphinxOptions.DebianModelDirectory, "cmudict-en-us.dict"));
        var lmTexts = ReportCorpora.IuXray(shared).Concat(ReportCorpora.MtSamples(shared)).ToList();
        var lmWatch = Stopwatch.StartNew();
        var arpa = DictationLanguageModel.BuildCached(lmTexts, vocab, Path.Combine(work, "dictation-lm.arpa"));
        var lmSeconds = lmWatch.Elapsed.TotalSeconds;

        sb.AppendLine($"Method: real speech = `jfk.wav` (11 s). Dictations = {clips.Count} PriMock57 consultation notes (every third, first");
        sb.AppendLine($"{DictationWords} spoken words: lower case, tokens with digits or slashes such as \"3/7\" dropped), synthesised with espeak-ng");
        sb.AppendLine("(`en-us+klatt`, 140 wpm; the default `en-us` voice is so unnatural that stock PocketSphinx scores WER > 1 on it).");
        sb.AppendLine("WER = word edits / reference words after lower-casing and dropping punctuation. RTF = processing time / audio time");
        sb.AppendLine("(including loading the decoder, which PocketSphinxEngine does per recording). The domain LM is a trigram model");
        sb.AppendLine($"built by `DictationLanguageModel` from IU X-ray + MTSamples text (not PriMock57) in {lmSeconds:0.0} s.");
        sb.AppendLine();
        sb.AppendLine("| engine / configuration | jfk.wav WER | dictations WER | dictations RTF |");
        sb.AppendLine("| --- | --- | --- | --- |");
        var configs = new List<(string Name, Func<ISpeechToText> Make)>
        {
            ("PocketSphinx stock (Debian model and LM, -lw 6.5, utterances cut at pauses as pocketsphinx_continuous)", () => new PocketSphinxEngine(new PocketSphinxOptions { Decoder = new() })),
            ("PocketSphinx -lw 10 (the earlier default)", () => new PocketSphinxEngine(new PocketSphinxOptions { Decoder = new() { ["lw"] = "10" } })),
            ("PocketSphinx Casebook default (-lw 10 -vad_postspeech 100)", () => new PocketSphinxEngine()),
            ("PocketSphinx default + domain LM (λ = 0.5)", () => new PocketSphinxEngine(new PocketSphinxOptions { DomainLanguageModel = arpa })),
        };
        var whisperModel = Environment.GetEnvironmentVariable(SpeechToTextOptions.WhisperModelVariable);
        if (whisperModel != null && File.Exists(whisperModel))
            configs.Add(($"Whisper ({Path.GetFileName(whisperModel)})", () => new WhisperEngine(new WhisperOptions { ModelPath = whisperModel })));
        foreach (var (name, make) in configs)
        {
            using var engine = make();
            var j = engine.Transcribe(AudioDecoder.Decode(jfk.Path));
            long e = 0, n = 0; double audio = 0, proc = 0;
            foreach (var c in clips)
            {
                var t = engine.Transcribe(AudioDecoder.Decode(c.Path));
                var (ce, cn) = RecognitionMetrics.WordErrors(c.Reference, t.Text);
                e += ce; n += cn; audio += t.DurationSeconds; proc += t.ProcessingSeconds;
            }
            sb.AppendLine($"| {name} | {RecognitionMetrics.WordErrorRate(jfk.Reference, j.Text):0.000} | {(double)e / n:0.000} | {proc / audio:0.00} |");
        }
        if (whisperModel == null || !File.Exists(whisperModel))
            sb.AppendLine($"| Whisper | not measured: no ggml model on this machine (set {SpeechToTextOptions.WhisperModelVariable}) | | |");
        return sb.ToString();
    }

    // ---- ASR settings sweep ----

    /// <summary>
    /// Every PocketSphinx setting measured for the offline floor, on the same clips as <see cref="Asr"/>: jfk.wav and the
    /// synthesised PriMock57 dictations. <paramref name="only"/> (comma-separated names) runs a subset.
    /// </summary>
    public static string AsrSweep(string shared, string work, string? only = null)
    {
        var dir = Directory.CreateDirectory(Path.Combine(work, "dictations")).FullName;
        var notes = ReportCorpora.PriMockNotes(shared);
        var dictated = notes.Where((_, i) => i % 3 == 1).Take(DictationCount).ToList();
        var clips = new List<Clip>();
        foreach (var (name, note) in dictated)
        {
            var text = ReportCorpora.Dictation(note, DictationWords);
            var wav = Path.Combine(dir, name + ".wav");
            if (!File.Exists(wav))
            {
                var r = ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", wav, text], TimeSpan.FromMinutes(1));
                if (r.ExitCode != 0) throw new InvalidOperationException("espeak-ng failed: " + r.Stderr);
            }
            clips.Add(new Clip(name, wav, text));
        }
        var jfk = new Clip("jfk", Path.Combine(shared, "audio", "jfk.wav"), JfkReference);
        var vocab = DictationLanguageModel.ReadDictionaryWords(Path.Combine(PocketSphinxOptions.DebianModelDirectory, "cmudict-en-us.dict"));
        var radiology = DictationLanguageModel.BuildCached(ReportCorpora.IuXray(shared).Concat(ReportCorpora.MtSamples(shared)), vocab, Path.Combine(work, "dictation-lm.arpa"));
        // The database's own notes, without the dictated ones: what a clinic's LM would be built from (no test text in it).
        var dictatedNames = dictated.Select(d => d.Name).ToHashSet();
        var heldOut = notes.Where(n => !dictatedNames.Contains(n.Name)).Select(n => n.Note).ToList();
        var clinic = DictationLanguageModel.BuildCached(heldOut.Concat(ReportCorpora.MtSamples(shared)), vocab, Path.Combine(work, "clinic-lm.arpa"));

        // Every row starts from the Casebook default decoder (-lw 10 -vad_postspeech 100) unless it says otherwise.
        PocketSphinxOptions O(Action<PocketSphinxOptions>? set = null) { var o = new PocketSphinxOptions(); set?.Invoke(o); return o; }
        PocketSphinxOptions L(Action<PocketSphinxOptions>? set = null) => O(o => { o.Decoder = new() { ["lw"] = "10" }; set?.Invoke(o); });
        var configs = new List<(string Name, string Description, PocketSphinxOptions Options)>
        {
            ("stock", "stock decoder (-lw 6.5), utterances cut at the VAD's pauses", O(o => o.Decoder = new())),
            ("lw10", "-lw 10 (the previous default)", O(o => o.Decoder = new() { ["lw"] = "10" })),
            ("default", "-lw 10 -vad_postspeech 100 (Casebook default)", O()),
            ("vote3", "default + 3 frame-shifted passes, ROVER vote", O(o => o.FrameShiftVotes = 3)),
            ("defaulthp", "default + high-pass 100 Hz", O(o => o.HighPassHz = 100)),
            ("warm10", "-lw 10 + CMN primed on the first 10 s", L(o => o.CmnWarmupSeconds = 10)),
            ("hp", "-lw 10 + high-pass 100 Hz", L(o => o.HighPassHz = 100)),
            ("norm", "-lw 10 + level normalised (99.9th pct at 0.5)", L(o => o.NormalizeLevel = 0.5)),
            ("dither", "-lw 10 + -dither yes", L(o => o.Decoder["dither"] = "yes")),
            ("warm10hp", "-lw 10 + CMN primed + high-pass 100 Hz", L(o => { o.CmnWarmupSeconds = 10; o.HighPassHz = 100; })),
            ("warm10norm", "-lw 10 + CMN primed + level normalised", L(o => { o.CmnWarmupSeconds = 10; o.NormalizeLevel = 0.5; })),
            ("warm30", "-lw 10 + CMN primed on the first 30 s", L(o => o.CmnWarmupSeconds = 30)),
            ("uttcmn", "-lw 10 + VAD utterances decoded whole (batch CMN per utterance)", L(o => o.UtteranceBatchCmn = true)),
            ("uttcmnhp", "-lw 10 + VAD utterances, batch CMN + high-pass 100 Hz", L(o => { o.UtteranceBatchCmn = true; o.HighPassHz = 100; })),
            ("uttcmn65", "-lw 6.5 + VAD utterances, batch CMN", L(o => { o.UtteranceBatchCmn = true; o.Decoder = new(); })),
            ("uttcmnlw12", "-lw 12 + VAD utterances, batch CMN", L(o => { o.UtteranceBatchCmn = true; o.Decoder["lw"] = "12"; })),
            ("post100", "-lw 10 + -vad_postspeech 100 (an utterance ends after 1.0 s of silence, not 0.5 s)", L(o => o.Decoder["vad_postspeech"] = "100")),
            ("post150", "-lw 10 + -vad_postspeech 150", L(o => o.Decoder["vad_postspeech"] = "150")),
            ("post200", "-lw 10 + -vad_postspeech 200", L(o => o.Decoder["vad_postspeech"] = "200")),
            ("post100hp", "-lw 10 + -vad_postspeech 100 + high-pass 100 Hz", L(o => { o.Decoder["vad_postspeech"] = "100"; o.HighPassHz = 100; })),
            ("post100clinic", "-lw 10 + -vad_postspeech 100 + clinic LM λ 0.5", L(o => { o.Decoder["vad_postspeech"] = "100"; o.DomainLanguageModel = clinic; })),
            ("oneutt", "-lw 10, one utterance per recording (no VAD cuts)", L(o => o.EndUtteranceAtPauses = false)),
            ("lw8warm", "-lw 8 + CMN primed", L(o => { o.Decoder["lw"] = "8"; o.CmnWarmupSeconds = 10; })),
            ("lw12warm", "-lw 12 + CMN primed", L(o => { o.Decoder["lw"] = "12"; o.CmnWarmupSeconds = 10; })),
            ("radlm", "default + radiology LM (IU X-ray + MTSamples), λ 0.5", O(o => o.DomainLanguageModel = radiology)),
            ("clinic3", "default + clinic LM λ 0.3", O(o => { o.DomainLanguageModel = clinic; o.DomainWeight = 0.3; })),
            ("cliniclm", "default + clinic LM (38 held-out PriMock57 notes + MTSamples), λ 0.5", O(o => o.DomainLanguageModel = clinic)),
            ("warmclinic", "-lw 10 + CMN primed + clinic LM λ 0.5", L(o => { o.CmnWarmupSeconds = 10; o.DomainLanguageModel = clinic; })),
            ("warmclinic3", "-lw 10 + CMN primed + clinic LM λ 0.3", L(o => { o.CmnWarmupSeconds = 10; o.DomainLanguageModel = clinic; o.DomainWeight = 0.3; })),
        };
        var wanted = only?.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var sb = new StringBuilder();
        sb.AppendLine("| setting | jfk.wav WER | dictations WER | RTF (dictations) |");
        sb.AppendLine("| --- | --- | --- | --- |");
        var jfkAudio = AudioDecoder.Decode(jfk.Path);
        var audios = clips.Select(c => AudioDecoder.Decode(c.Path)).ToList();
        foreach (var (name, description, options) in configs)
        {
            if (wanted != null && !wanted.Contains(name)) continue;
            using var engine = new PocketSphinxEngine(options);
            var j = engine.Transcribe(jfkAudio);
            long e = 0, n = 0; double audio = 0, proc = 0;
            for (int i = 0; i < clips.Count; i++)
            {
                var t = engine.Transcribe(audios[i]);
                var (ce, cn) = RecognitionMetrics.WordErrors(clips[i].Reference, t.Text);
                e += ce; n += cn; audio += t.DurationSeconds; proc += t.ProcessingSeconds;
            }
            var line = $"| {description} (`{name}`) | {RecognitionMetrics.WordErrorRate(jfk.Reference, j.Text):0.000} | {(double)e / n:0.000} | {proc / audio:0.00} |";
            Console.Error.WriteLine(line + "   jfk: " + j.Text);
            sb.AppendLine(line);
        }
        return sb.ToString();
    }

    static string Pct(double x) => (100 * x).ToString("0.00", CultureInfo.InvariantCulture) + " %";
}
