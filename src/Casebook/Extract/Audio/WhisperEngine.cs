using System.Diagnostics;
using Whisper.net;

namespace Casebook.Extract.Audio;

public sealed class WhisperOptions
{
    /// <summary>A ggml model file (e.g. ggml-base.en.bin). None ships with Casebook.</summary>
    public string? ModelPath { get; set; }
    public string Language { get; set; } = "en";
    public int Threads { get; set; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>
/// OpenAI Whisper through Whisper.net (whisper.cpp, native linux-x64 runtime): the accurate engine. The model is
/// loaded once in the constructor, so a missing or broken model fails there with a message that says what to do.
/// </summary>
public sealed class WhisperEngine : ISpeechToText
{
    public const string ModelHelp = "download a ggml model such as ggml-base.en.bin from https://huggingface.co/ggerganov/whisper.cpp/tree/main " +
        "and pass --model PATH (or set " + SpeechToTextOptions.WhisperModelVariable + ")";

    readonly WhisperFactory _factory;
    readonly object _gate = new();
    public WhisperOptions Options { get; }
    public string Name { get; }

    public WhisperEngine(WhisperOptions options)
    {
        Options = options;
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            throw new SpeechModelMissingException($"Whisper needs a model file and none was given: {ModelHelp}");
        if (!File.Exists(options.ModelPath))
            throw new SpeechModelMissingException($"Whisper model not found at {options.ModelPath}: {ModelHelp}");
        if (new FileInfo(options.ModelPath).Length < 1024)
            throw new SpeechToTextException($"{options.ModelPath} is not a Whisper ggml model (too small): {ModelHelp}");
        try
        {
            _factory = WhisperFactory.FromPath(options.ModelPath);
            // The factory loads lazily; build one processor now so a broken model fails here, not mid-ingest.
            using var probe = _factory.CreateBuilder().WithLanguage(options.Language).Build();
        }
        catch (Exception e) when (e is not SpeechToTextException)
        {
            throw new SpeechToTextException($"Whisper model at {options.ModelPath} could not be loaded ({e.GetType().Name}: {e.Message}): {ModelHelp}", e);
        }
        Name = $"{SpeechToTextOptions.Whisper}:{Path.GetFileName(options.ModelPath)}";
    }

    public Transcript Transcribe(DecodedAudio audio, CancellationToken ct = default)
    {
        var samples = audio.SampleRate == AudioDecoder.TargetSampleRate ? audio.Samples
            : Resampler.Resample(audio.Samples, audio.SampleRate, AudioDecoder.TargetSampleRate);
        var sw = Stopwatch.StartNew();
        var segments = new List<TranscriptSegment>();
        lock (_gate)
        {
            using var processor = _factory.CreateBuilder().WithLanguage(Options.Language).WithThreads(Options.Threads).WithProbabilities().Build();
            foreach (var s in processor.ProcessAsync(samples, ct).ToBlockingEnumerable(ct))
                segments.Add(new TranscriptSegment(s.Start.TotalSeconds, s.End.TotalSeconds, s.Text.Trim(), Math.Round(s.Probability, 4)));
        }
        return new Transcript(segments, Name, (double)samples.Length / AudioDecoder.TargetSampleRate, sw.Elapsed.TotalSeconds);
    }

    public void Dispose() => _factory.Dispose();
}
