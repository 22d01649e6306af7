namespace Casebook.Extract.Audio;

/// <summary>One stretch of speech: times in seconds from the start of the recording, confidence 0–1.</summary>
public sealed record TranscriptSegment(double Start, double End, string Text, double Confidence);

/// <summary>What an engine heard: segments in time order and their text joined by spaces.</summary>
public sealed class Transcript(IReadOnlyList<TranscriptSegment> segments, string engine, double durationSeconds, double processingSeconds)
{
    public IReadOnlyList<TranscriptSegment> Segments { get; } = segments;
    public string Text { get; } = string.Join(" ", segments.Select(s => s.Text.Trim()).Where(t => t.Length > 0));
    /// <summary>"pocketsphinx" or "whisper" (with the model file name, e.g. "whisper:ggml-base.en.bin").</summary>
    public string Engine { get; } = engine;
    public double DurationSeconds { get; } = durationSeconds;
    public double ProcessingSeconds { get; } = processingSeconds;
    /// <summary>Processing time over audio time (below 1 is faster than real time).</summary>
    public double RealTimeFactor => DurationSeconds > 0 ? ProcessingSeconds / DurationSeconds : 0;
}

/// <summary>A speech-to-text engine. Implementations may hold native models: dispose them when done.</summary>
public interface ISpeechToText : IDisposable
{
    string Name { get; }
    /// <summary>Transcribes 16 kHz mono audio (see <see cref="AudioDecoder"/>).</summary>
    Transcript Transcribe(DecodedAudio audio, CancellationToken ct = default);
}

/// <summary>An engine that cannot run: missing model, native library or bad configuration. The message says what to do.</summary>
public class SpeechToTextException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The model file the engine needs is not there.</summary>
public sealed class SpeechModelMissingException(string message) : SpeechToTextException(message);
