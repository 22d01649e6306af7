namespace Casebook.Extract.Audio;

/// <summary>Decoded speech: mono float samples in [-1, 1] at <see cref="SampleRate"/> (16 kHz after <see cref="AudioDecoder"/>).</summary>
public sealed class DecodedAudio(float[] samples, int sampleRate, string format = "pcm")
{
    public float[] Samples { get; } = samples;
    public int SampleRate { get; } = sampleRate;
    /// <summary>"wav", "mp3", "ogg", "flac", "m4a" (the container the audio came from).</summary>
    public string Format { get; } = format;
    public double DurationSeconds => SampleRate == 0 ? 0 : (double)Samples.Length / SampleRate;

    /// <summary>Writes 16-bit PCM mono WAV (RIFF), the input the PocketSphinx CLI reads.</summary>
    public void WriteWav16(string path)
    {
        using var f = new BinaryWriter(File.Create(path));
        int dataBytes = Samples.Length * 2;
        f.Write("RIFF"u8); f.Write(36 + dataBytes); f.Write("WAVE"u8);
        f.Write("fmt "u8); f.Write(16); f.Write((short)1); f.Write((short)1); f.Write(SampleRate); f.Write(SampleRate * 2); f.Write((short)2); f.Write((short)16);
        f.Write("data"u8); f.Write(dataBytes);
        var buf = new byte[Samples.Length * 2];
        for (int i = 0; i < Samples.Length; i++)
        {
            var s = (short)Math.Clamp(MathF.Round(Samples[i] * 32767f), -32768, 32767);
            buf[2 * i] = (byte)s; buf[2 * i + 1] = (byte)(s >> 8);
        }
        f.Write(buf);
    }
}
