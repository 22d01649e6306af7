using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Extract.Audio;
using Casebook.Extract.Documents;

namespace Casebook.Cli;

/// <summary>
/// <c>ocr</c> and <c>transcribe</c>: the extraction stage on its own, for one file. stdout carries only the text
/// (or JSON); errors go to stderr. Exit codes: 0 ok, 1 the file could not be read, 2 usage, 3 engine/tool error.
/// </summary>
public static class ExtractCommands
{
    public const string OcrUsage = "ocr FILE [--json] [--lang eng] [--dpi 300]   text of a PDF or scanned image (TIFF, PNG, JPEG)";
    public const string TranscribeUsage = "transcribe FILE [--engine pocketsphinx|whisper] [--model PATH] [--lm ARPA] [--json]   transcript of a dictation (WAV, MP3, OGG, FLAC, M4A)";

    static readonly HashSet<string> Flags = ["json"];
    static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false };

    /// <summary><c>./casebook ocr FILE [--json]</c>: the recognised text alone, or JSON pages with text and mean confidence.</summary>
    public static int Ocr(string[] args) => Ocr(args, Console.Out, Console.Error);

    /// <summary><see cref="Ocr(string[])"/> writing to the given streams (tests).</summary>
    public static int Ocr(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args, Flags);
        var file = Single(a, "ocr");
        var options = new DocumentExtractionOptions();
        if (a.Get("lang") is { } lang) options.OcrLanguage = lang;
        if (a.Long("dpi") is { } dpi) options.RasterDpi = (int)Math.Clamp(dpi, 50, 1200);
        bool json = a.Flag("json");
        a.EnsureAllUsed();
        ExtractedDocument doc;
        try { doc = new DocumentTextExtractor(options).Extract(file); }
        catch (DocumentExtractionException e)
        {
            stderr.WriteLine($"casebook: ocr: {e.Message}");
            return e.Reason is DocumentFailure.ToolMissing ? 3 : 1;
        }
        if (!json) { stdout.WriteLine(doc.FullText); return 0; }
        var pages = new JsonArray();
        foreach (var p in doc.Pages)
            pages.Add(new JsonObject
            {
                ["page"] = p.PageNumber, ["source"] = p.Source, ["text"] = p.Text,
                ["mean_confidence"] = Math.Round(p.MeanConfidence, 2), ["words"] = p.Words.Count,
                ["rotation"] = p.RotationApplied, ["char_start"] = doc.PageOffsets[p.PageNumber - 1],
            });
        var root = new JsonObject
        {
            ["file"] = file, ["format"] = doc.Format, ["mean_confidence"] = Math.Round(doc.MeanConfidence, 2), ["pages"] = pages,
        };
        stdout.WriteLine(root.ToJsonString(JsonOut));
        return 0;
    }

    /// <summary><c>./casebook transcribe FILE [--engine whisper|pocketsphinx] [--model PATH] [--json]</c>.</summary>
    public static int Transcribe(string[] args) => Transcribe(args, Console.Out, Console.Error);

    /// <summary><see cref="Transcribe(string[])"/> writing to the given streams (tests).</summary>
    public static int Transcribe(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Args(args, Flags);
        var file = Single(a, "transcribe");
        var engine = (a.Get("engine") ?? SpeechToTextOptions.PocketSphinx).ToLowerInvariant();
        if (engine is not (SpeechToTextOptions.PocketSphinx or SpeechToTextOptions.Whisper))
            throw new UsageException($"--engine must be pocketsphinx or whisper, not '{engine}'");
        var model = a.Get("model");
        var lm = a.Get("lm");
        bool json = a.Flag("json");
        a.EnsureAllUsed();
        var options = new SpeechToTextOptions { Engine = engine, WhisperModelPath = model };
        if (engine == SpeechToTextOptions.PocketSphinx)
        {
            if (model != null) options.PocketSphinxSettings.ModelDirectory = model;
            if (lm != null) options.PocketSphinxSettings.DomainLanguageModel = lm;
        }
        else if (lm != null) throw new UsageException("--lm applies to --engine pocketsphinx only");

        DecodedAudio audio;
        try { audio = AudioDecoder.Decode(file); }
        catch (AudioDecodeException e) { stderr.WriteLine($"casebook: transcribe: {e.Message}"); return 1; }
        Transcript t;
        try
        {
            using var stt = SpeechToText.Create(options);
            t = stt.Transcribe(audio);
        }
        catch (SpeechToTextException e) { stderr.WriteLine($"casebook: transcribe: {e.Message}"); return 3; }
        if (!json) { stdout.WriteLine(t.Text); return 0; }
        var segments = new JsonArray();
        foreach (var s in t.Segments)
            segments.Add(new JsonObject
            {
                ["start"] = Math.Round(s.Start, 3), ["end"] = Math.Round(s.End, 3), ["text"] = s.Text, ["confidence"] = Math.Round(s.Confidence, 4),
            });
        var root = new JsonObject
        {
            ["file"] = file, ["engine"] = t.Engine, ["duration"] = Math.Round(t.DurationSeconds, 3),
            ["real_time_factor"] = Math.Round(t.RealTimeFactor, 3), ["text"] = t.Text, ["segments"] = segments,
        };
        stdout.WriteLine(root.ToJsonString(JsonOut));
        return 0;
    }

    /// <summary>
    /// <c>ingest --asr-engine pocketsphinx|whisper [--whisper-model PATH] [--asr-lm auto|none|FILE.arpa]</c>: the engine that
    /// transcribes dictations, and PocketSphinx's domain LM (auto = built from the database's report text). Whisper
    /// without a model fails here, before anything is ingested, and says where to download one.
    /// </summary>
    public static void ApplyIngestSpeechOptions(Args a, Ingest.IngestOptions options)
    {
        var engine = (a.Get("asr-engine") ?? SpeechToTextOptions.PocketSphinx).ToLowerInvariant();
        var model = a.Get("whisper-model");
        if (engine is not (SpeechToTextOptions.PocketSphinx or SpeechToTextOptions.Whisper))
            throw new UsageException($"--asr-engine must be pocketsphinx or whisper, not '{engine}'");
        if (engine == SpeechToTextOptions.PocketSphinx && model != null) throw new UsageException("--whisper-model applies to --asr-engine whisper only");
        options.SpeechToText.Engine = engine;
        if (a.Get("asr-lm") is { } lm)
        {
            if (engine != SpeechToTextOptions.PocketSphinx) throw new UsageException("--asr-lm applies to --asr-engine pocketsphinx only");
            if (lm != "none" && lm != Ingest.IngestOptions.AutoLanguageModel && !File.Exists(lm)) throw new UsageException($"--asr-lm: no such file '{lm}' (use auto, none or an ARPA file)");
            options.DictationLanguageModel = lm == "none" ? null : lm;
        }
        if (engine != SpeechToTextOptions.Whisper) return;
        model ??= Environment.GetEnvironmentVariable(SpeechToTextOptions.WhisperModelVariable);
        if (string.IsNullOrWhiteSpace(model))
            throw new UsageException($"--asr-engine whisper needs a model file and none was given: {WhisperEngine.ModelHelp}".Replace("--model PATH", "--whisper-model PATH"));
        if (!File.Exists(model))
            throw new UsageException($"--whisper-model: no such file '{model}': {WhisperEngine.ModelHelp}".Replace("--model PATH", "--whisper-model PATH"));
        options.SpeechToText.WhisperModelPath = model;
    }

    static string Single(Args a, string verb)
    {
        if (a.Positional.Count != 1) throw new UsageException($"{verb} takes exactly one FILE");
        var file = a.Positional[0];
        return file;
    }
}
