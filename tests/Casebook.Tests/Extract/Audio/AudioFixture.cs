using Casebook.Extract;

namespace Casebook.Tests.Extract.Audio;

/// <summary>
/// A dictation synthesised once per run with espeak-ng (Klatt voice, which PocketSphinx's acoustic model hears far
/// better than the default formant voice) and the same audio encoded with ffmpeg as MP3, OGG/Vorbis, FLAC and M4A.
/// </summary>
public sealed class AudioFixture : IDisposable
{
    public const string Sentence = "the patient has a fever and a cough";
    public TempDirectory Dir { get; } = new();
    public string Wav => Dir["dictation.wav"];
    public string Path(string ext) => Dir["dictation." + ext];

    public AudioFixture()
    {
        Check(ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", Wav, Sentence], TimeSpan.FromMinutes(1)));
        foreach (var (ext, codec) in new[] { ("mp3", "libmp3lame"), ("ogg", "libvorbis"), ("flac", "flac"), ("m4a", "aac") })
            Check(ExternalTool.Run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", Wav, "-c:a", codec, Path(ext)], TimeSpan.FromMinutes(1)));
    }

    static void Check(ExternalTool.Result r) { if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr); }

    public void Dispose() => Dir.Dispose();
}

[CollectionDefinition("audio")]
public sealed class AudioCollection : ICollectionFixture<AudioFixture>;
