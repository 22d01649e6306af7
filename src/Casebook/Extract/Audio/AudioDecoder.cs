using System.Buffers.Binary;
using System.Globalization;

namespace Casebook.Extract.Audio;

/// <summary>Limits for decoding.</summary>
public sealed class AudioDecodeOptions
{
    /// <summary>Longest recording accepted (default 4 hours).</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(4);
    /// <summary>Largest file accepted (default 2 GiB).</summary>
    public long MaxFileBytes { get; set; } = 2L << 30;
    /// <summary>Timeout of the ffmpeg call.</summary>
    public TimeSpan ToolTimeout { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Decodes dictations to 16 kHz mono float. WAV (PCM 8/16/24/32-bit, float 32/64, WAVE_FORMAT_EXTENSIBLE) is read
/// in process; MP3, OGG/Vorbis, FLAC, M4A/AAC and WAV with other codecs go through Debian's ffmpeg, which decodes
/// all of them with one well-fuzzed code path (measured: the managed MP3/Vorbis decoders add packages but no
/// format ffmpeg lacks, and there is no maintained managed FLAC or AAC decoder to restore here).
/// </summary>
public static class AudioDecoder
{
    public const int TargetSampleRate = 16000;

    /// <summary>File extensions accepted (lower case, with the dot).</summary>
    public static IReadOnlySet<string> SupportedExtensions { get; } =
        new HashSet<string> { ".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".mp4", ".aac" };

    public static DecodedAudio Decode(string path, AudioDecodeOptions? options = null, CancellationToken ct = default)
    {
        options ??= new AudioDecodeOptions();
        var info = new FileInfo(path);
        if (!info.Exists) throw new AudioDecodeException(path, "no such file");
        if (info.Length == 0) throw new AudioDecodeException(path, "empty file (0 bytes)");
        if (info.Length > options.MaxFileBytes) throw new AudioDecodeException(path, $"{info.Length:N0} bytes exceeds the limit of {options.MaxFileBytes:N0} (AudioDecodeOptions.MaxFileBytes)");
        var format = DetectFormat(path);
        if (format == "unknown") throw new AudioDecodeException(path, "not a WAV, MP3, OGG, FLAC or M4A file (checked by content)");
        float[] samples;
        if (format == "wav" && TryReadWav(path, options, out var wav)) samples = wav;
        else samples = DecodeWithFfmpeg(path, options, ct);
        if (samples.Length == 0) throw new AudioDecodeException(path, "no audio samples");
        return new DecodedAudio(samples, TargetSampleRate, format);
    }

    /// <summary>"wav", "mp3", "ogg", "flac", "m4a" or "unknown", from the first bytes.</summary>
    public static string DetectFormat(string path)
    {
        Span<byte> h = stackalloc byte[12];
        int n;
        using (var f = File.OpenRead(path)) n = f.ReadAtLeast(h, 12, throwOnEndOfStream: false);
        h = h[..n];
        if (n >= 12 && h[..4].SequenceEqual("RIFF"u8) && h[8..12].SequenceEqual("WAVE"u8)) return "wav";
        if (n >= 4 && h[..4].SequenceEqual("OggS"u8)) return "ogg";
        if (n >= 4 && h[..4].SequenceEqual("fLaC"u8)) return "flac";
        if (n >= 8 && h[4..8].SequenceEqual("ftyp"u8)) return "m4a";
        if (n >= 3 && h[..3].SequenceEqual("ID3"u8)) return "mp3";
        if (n >= 2 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0) return (h[1] & 0x06) == 0 ? "aac" : "mp3"; // MPEG frame sync (layer 0 = ADTS AAC)
        return "unknown";
    }

    static float[] DecodeWithFfmpeg(string path, AudioDecodeOptions options, CancellationToken ct)
    {
        long maxBytes = (long)(options.MaxDuration.TotalSeconds * TargetSampleRate * 4) + 4096;
        ExternalTool.Result r;
        try
        {
            r = ExternalTool.Run("ffmpeg", ["-nostdin", "-hide_banner", "-v", "error", "-i", path, "-vn", "-ac", "1",
                "-ar", TargetSampleRate.ToString(CultureInfo.InvariantCulture), "-f", "f32le", "-"], options.ToolTimeout, ct, maxStdoutBytes: maxBytes);
        }
        catch (ExternalToolException e) when (e.Message.Contains("wrote more than"))
        { throw new AudioDecodeException(path, $"longer than the limit of {options.MaxDuration} (AudioDecodeOptions.MaxDuration)", e); }
        catch (ExternalToolException e) { throw new AudioDecodeException(path, e.Message, e); }
        if (r.ExitCode != 0 || r.Stdout.Length < 4)
            throw new AudioDecodeException(path, $"could not be decoded (ffmpeg: {FirstLine(r.Stderr)})");
        var samples = new float[r.Stdout.Length / 4];
        Buffer.BlockCopy(r.Stdout, 0, samples, 0, samples.Length * 4);
        return samples;
    }

    /// <summary>Reads RIFF/WAVE PCM or float; false for other codecs (then ffmpeg decodes). Throws on a damaged file.</summary>
    public static bool TryReadWav(string path, AudioDecodeOptions options, out float[] samples)
    {
        samples = [];
        var bytes = File.ReadAllBytes(path);
        var s = bytes.AsSpan();
        int pos = 12, format = 0, channels = 0, rate = 0, bits = 0;
        ReadOnlySpan<byte> data = default;
        bool haveFmt = false, haveData = false;
        while (pos + 8 <= s.Length)
        {
            var id = s.Slice(pos, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(pos + 4, 4));
            int body = pos + 8;
            long avail = Math.Min(size, s.Length - body); // a truncated last chunk is read as far as it goes
            if (id.SequenceEqual("fmt "u8) && avail >= 16)
            {
                format = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(body, 2));
                channels = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(body + 2, 2));
                rate = BinaryPrimitives.ReadInt32LittleEndian(s.Slice(body + 4, 4));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(body + 14, 2));
                if (format == 0xFFFE && avail >= 26) format = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(body + 24, 2)); // sub-format GUID's first two bytes
                haveFmt = true;
            }
            else if (id.SequenceEqual("data"u8)) { data = s.Slice(body, (int)avail); haveData = true; }
            if (haveFmt && haveData) break;
            pos = (int)Math.Min(s.Length, body + size + (size & 1)); // chunks are word aligned
        }
        if (!haveFmt || !haveData) throw new AudioDecodeException(path, "WAV file without fmt or data chunk");
        if (channels < 1 || rate < 1000 || rate > 768000) throw new AudioDecodeException(path, $"implausible WAV header ({channels} channels, {rate} Hz)");
        if (!(format == 1 && bits is 8 or 16 or 24 or 32) && !(format == 3 && bits is 32 or 64)) return false;
        int bytesPer = bits / 8;
        long frames = data.Length / (bytesPer * channels);
        if (frames / (double)rate > options.MaxDuration.TotalSeconds)
            throw new AudioDecodeException(path, $"longer than the limit of {options.MaxDuration} (AudioDecodeOptions.MaxDuration)");
        var interleaved = new float[frames * channels];
        for (long i = 0; i < interleaved.Length; i++)
        {
            var b = data.Slice((int)(i * bytesPer), bytesPer);
            interleaved[i] = (format, bits) switch
            {
                (1, 8) => (b[0] - 128) / 128f,
                (1, 16) => BinaryPrimitives.ReadInt16LittleEndian(b) / 32768f,
                (1, 24) => ((b[0] | (b[1] << 8) | ((sbyte)b[2] << 16))) / 8388608f,
                (1, 32) => BinaryPrimitives.ReadInt32LittleEndian(b) / 2147483648f,
                (3, 32) => BinaryPrimitives.ReadSingleLittleEndian(b),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
            };
        }
        var mono = Resampler.Downmix(interleaved, channels);
        samples = Resampler.Resample(mono, rate, TargetSampleRate);
        return true;
    }

    static string FirstLine(string s)
    {
        var l = s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return l.Length > 200 ? l[..200] : l;
    }
}
