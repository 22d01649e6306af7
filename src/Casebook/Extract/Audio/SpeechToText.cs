namespace Casebook.Extract.Audio;

/// <summary>Which engine to use and how; <see cref="SpeechToText.Create"/> builds it.</summary>
public sealed class SpeechToTextOptions
{
    public const string PocketSphinx = "pocketsphinx";
    public const string Whisper = "whisper";
    /// <summary>Environment variable naming a default Whisper ggml model file.</summary>
    public const string WhisperModelVariable = "CASEBOOK_WHISPER_MODEL";

    /// <summary>"pocketsphinx" (offline default, ships with Debian) or "whisper" (accurate; needs a ggml model file).</summary>
    public string Engine { get; set; } = PocketSphinx;
    /// <summary>Whisper: path of a ggml model; default $CASEBOOK_WHISPER_MODEL.</summary>
    public string? WhisperModelPath { get; set; }
    public string Language { get; set; } = "en";
    public PocketSphinxOptions PocketSphinxSettings { get; set; } = new();
    public int Threads { get; set; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Makes the engine instead of <see cref="SpeechToText.Create"/>'s own (a cluster sends dictations to its workers); null = local.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public Func<SpeechToTextOptions, ISpeechToText>? CreateEngine { get; set; }
}

/// <summary>Engine factory: configuration picks the engine.</summary>
public static class SpeechToText
{
    public static ISpeechToText Create(SpeechToTextOptions options) => options.CreateEngine?.Invoke(options) ?? options.Engine.ToLowerInvariant() switch
    {
        SpeechToTextOptions.PocketSphinx => new PocketSphinxEngine(options.PocketSphinxSettings),
        SpeechToTextOptions.Whisper => new WhisperEngine(new WhisperOptions
        {
            ModelPath = options.WhisperModelPath ?? Environment.GetEnvironmentVariable(SpeechToTextOptions.WhisperModelVariable),
            Language = options.Language, Threads = options.Threads,
        }),
        _ => throw new SpeechToTextException($"unknown speech engine '{options.Engine}' (use pocketsphinx or whisper)"),
    };
}
