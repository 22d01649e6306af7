using Casebook.Extract.Audio;

namespace Casebook.Tests.Extract.Audio;

[Collection("audio")]
public sealed class AudioDecoderTests(AudioFixture audio)
{
    [Theory]
    [InlineData("wav")]
    [InlineData("mp3")]
    [InlineData("ogg")]
    [InlineData("flac")]
    [InlineData("m4a")]
    public void Every_format_decodes_to_16_kHz_mono_of_the_same_length(string ext)
    {
        var reference = AudioDecoder.Decode(audio.Wav);
        var decoded = AudioDecoder.Decode(audio.Path(ext));
        Assert.Equal(ext, decoded.Format);
        Assert.Equal(16000, decoded.SampleRate);
        // Encoders pad a little (MP3/AAC priming frames): allow 0.1 s.
        Assert.InRange(decoded.DurationSeconds, reference.DurationSeconds - 0.1, reference.DurationSeconds + 0.1);
        Assert.InRange(Rms(decoded.Samples), 0.5 * Rms(reference.Samples), 1.5 * Rms(reference.Samples));
    }

    [Fact]
    public void Wav_variants_are_read_in_process_and_resampled()
    {
        using var dir = new TempDirectory();
        foreach (var (bits, format) in new[] { (16, 1), (24, 1), (8, 1), (32, 3) })
        {
            var path = dir[$"tone{bits}.wav"];
            WriteTone(path, 44100, channels: 2, bits, format, seconds: 1.0, hz: 440);
            var a = AudioDecoder.Decode(path);
            Assert.Equal("wav", a.Format);
            Assert.InRange(a.DurationSeconds, 0.99, 1.01);
            // A 440 Hz tone crosses zero 880 times a second; resampling must keep the pitch.
            int crossings = 0;
            for (int i = 1; i < a.Samples.Length; i++) if ((a.Samples[i - 1] < 0) != (a.Samples[i] < 0)) crossings++;
            Assert.InRange(crossings, 870, 890);
            Assert.InRange(a.Samples.Max(), 0.4f, 0.55f);
        }
    }

    [Fact]
    public void Bad_audio_fails_with_the_file_name()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir["empty.wav"], []);
        Assert.Contains("empty.wav", Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(dir["empty.wav"])).Message);
        File.WriteAllBytes(dir["noise.mp3"], Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());
        Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(dir["noise.mp3"]));
        var ogg = File.ReadAllBytes(audio.Path("ogg"));
        File.WriteAllBytes(dir["cut.ogg"], ogg[..200]);
        Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(dir["cut.ogg"]));
        File.WriteAllBytes(dir["header.wav"], "RIFF\x24\0\0\0WAVEjunk"u8.ToArray());
        Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(dir["header.wav"]));
        Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(audio.Wav, new AudioDecodeOptions { MaxDuration = TimeSpan.FromSeconds(0.5) }));
        Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(audio.Path("flac"), new AudioDecodeOptions { MaxDuration = TimeSpan.FromSeconds(0.5) }));
    }

    static double Rms(float[] s) => Math.Sqrt(s.Average(x => (double)x * x));

    static void WriteTone(string path, int rate, int channels, int bits, int format, double seconds, double hz)
    {
        int frames = (int)(rate * seconds), bytesPer = bits / 8;
        using var w = new BinaryWriter(File.Create(path));
        int data = frames * channels * bytesPer;
        w.Write("RIFF"u8); w.Write(36 + data); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)format); w.Write((short)channels); w.Write(rate);
        w.Write(rate * channels * bytesPer); w.Write((short)(channels * bytesPer)); w.Write((short)bits);
        w.Write("data"u8); w.Write(data);
        for (int i = 0; i < frames; i++)
        {
            double v = 0.5 * Math.Sin(2 * Math.PI * hz * i / rate);
            for (int c = 0; c < channels; c++)
                switch (bits)
                {
                    case 8: w.Write((byte)(128 + (int)Math.Round(v * 127))); break;
                    case 16: w.Write((short)Math.Round(v * 32767)); break;
                    case 24: { int x = (int)Math.Round(v * 8388607); w.Write((byte)x); w.Write((byte)(x >> 8)); w.Write((byte)(x >> 16)); break; }
                    default: w.Write((float)v); break;
                }
        }
    }
}
