using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Casebook.Extract.Audio;

/// <summary>Settings of the offline engine. Paths default to Debian's <c>pocketsphinx-en-us</c>.</summary>
public sealed class PocketSphinxOptions
{
    public const string DebianModelDirectory = "/usr/share/pocketsphinx/model/en-us";
    public string ModelDirectory { get; set; } = DebianModelDirectory;
    /// <summary>Acoustic model folder; default ModelDirectory/en-us.</summary>
    public string? AcousticModel { get; set; }
    /// <summary>Pronunciation dictionary; default ModelDirectory/cmudict-en-us.dict.</summary>
    public string? Dictionary { get; set; }
    /// <summary>General English language model; default ModelDirectory/en-us.lm.bin.</summary>
    public string? LanguageModel { get; set; }
    /// <summary>
    /// Optional domain language model (ARPA, e.g. from <see cref="DictationLanguageModel"/> over the database's
    /// report text), linearly interpolated with the general one at <see cref="DomainWeight"/>.
    /// </summary>
    public string? DomainLanguageModel { get; set; }
    /// <summary>Interpolation weight of the domain LM (0–1).</summary>
    public double DomainWeight { get; set; } = 0.5;
    /// <summary>
    /// Decoder settings (pocketsphinx argument names without the dash). Defaults differ from the stock ones where a
    /// sweep over synthesised PriMock57 dictations (not jfk.wav) found them better; see docs/benchmarks.md.
    /// </summary>
    public Dictionary<string, string> Decoder { get; set; } = new(DefaultDecoder);
    /// <summary>
    /// End an utterance at every pause the voice activity detector finds (as pocketsphinx_continuous does), instead of
    /// decoding the recording as one utterance. On by default: one long utterance scored worse on jfk.wav (WER 0.86
    /// vs 0.64) and no better on synthesised dictations.
    /// </summary>
    public bool EndUtteranceAtPauses { get; set; } = true;
    /// <summary>Segments are cut where words are this far apart (seconds).</summary>
    public double SegmentPause { get; set; } = 0.5;
    /// <summary>With <see cref="EndUtteranceAtPauses"/> off, the longest stretch decoded as one utterance (seconds).</summary>
    public double MaxUtteranceSeconds { get; set; } = 60;

    /// <summary>
    /// Language weight 10 instead of 6.5: on the dictation development set (12 synthesised PriMock57 notes) it cut
    /// insertions, WER 1.03 → 0.87; jfk.wav was not used to choose it.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultDecoder { get; } = new Dictionary<string, string> { ["lw"] = "10" };

    internal string Hmm => AcousticModel ?? Path.Combine(ModelDirectory, "en-us");
    internal string Dict => Dictionary ?? Path.Combine(ModelDirectory, "cmudict-en-us.dict");
    internal string Lm => LanguageModel ?? Path.Combine(ModelDirectory, "en-us.lm.bin");
}

/// <summary>
/// CMU PocketSphinx (Debian's libpocketsphinx, in process through P/Invoke): the engine that works offline out of
/// the box. Utterances are cut by the library's own voice activity detection, as pocketsphinx_continuous does; each
/// becomes a segment whose confidence is the mean word posterior. P/Invoke rather than the CLI because only the
/// library can interpolate a domain LM with the general one (ngram_model_set_init).
/// </summary>
public sealed class PocketSphinxEngine : ISpeechToText
{
    const int FrameRate = 100;
    readonly object _gate = new();
    readonly List<string> _args;
    IntPtr _config, _decoder;
    bool _disposed;

    public string Name => SpeechToTextOptions.PocketSphinx;
    public PocketSphinxOptions Options { get; }

    public PocketSphinxEngine(PocketSphinxOptions? options = null)
    {
        Options = options ?? new PocketSphinxOptions();
        foreach (var (what, path) in new[] { ("acoustic model", Options.Hmm), ("dictionary", Options.Dict), ("language model", Options.Lm) })
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new SpeechModelMissingException($"PocketSphinx {what} not found at {path}: install Debian's pocketsphinx-en-us (scripts/setup-system.sh) or set PocketSphinxOptions");
        if (Options.DomainLanguageModel is { } d && !File.Exists(d))
            throw new SpeechModelMissingException($"domain language model not found at {d}");
        _args = new List<string> { "-hmm", Options.Hmm, "-dict", Options.Dict, "-lm", Options.Lm, "-logfn", "/dev/null" };
        foreach (var (k, v) in Options.Decoder) { _args.Add("-" + k.TrimStart('-')); _args.Add(v); }
        // Load once now so that a broken installation or configuration fails here, not at the first dictation.
        Open();
        Close();
    }

    // A fresh decoder per recording: live CMN and the VAD's noise estimate otherwise carry over from the previous
    // recording, which made results depend on the order of files (jfk.wav after 19 synthetic voices: WER 0.82 vs 0.55).
    void Open()
    {
        try
        {
            _config = PocketSphinxNative.ParseConfig(_args);
            if (_config == IntPtr.Zero) throw new SpeechToTextException($"PocketSphinx rejected its configuration: {string.Join(' ', _args)}");
            _decoder = PocketSphinxNative.ps_init(_config);
            if (_decoder == IntPtr.Zero) throw new SpeechToTextException("PocketSphinx could not load its models (ps_init failed)");
            if (Options.DomainLanguageModel != null) UseInterpolatedLm(Options.DomainLanguageModel, Options.DomainWeight);
        }
        catch (DllNotFoundException e)
        {
            Close();
            throw new SpeechToTextException("libpocketsphinx is not installed: install Debian's pocketsphinx and pocketsphinx-en-us (scripts/setup-system.sh)", e);
        }
        catch { Close(); throw; }
    }

    void Close()
    {
        if (_decoder != IntPtr.Zero) { PocketSphinxNative.ps_free(_decoder); _decoder = IntPtr.Zero; }
        if (_config != IntPtr.Zero) { PocketSphinxNative.cmd_ln_free_r(_config); _config = IntPtr.Zero; }
    }

    unsafe void UseInterpolatedLm(string domainArpa, double weight)
    {
        var lmath = PocketSphinxNative.ps_get_logmath(_decoder);
        var general = PocketSphinxNative.ngram_model_read(_config, Options.Lm, 0, lmath);
        var domain = PocketSphinxNative.ngram_model_read(_config, domainArpa, 1, lmath); // NGRAM_ARPA
        if (general == IntPtr.Zero || domain == IntPtr.Zero)
            throw new SpeechToTextException($"language model could not be read: {(general == IntPtr.Zero ? Options.Lm : domainArpa)}");
        var models = stackalloc IntPtr[] { general, domain };
        var n1 = Marshal.StringToCoTaskMemUTF8("general");
        var n2 = Marshal.StringToCoTaskMemUTF8("domain");
        try
        {
            var names = stackalloc IntPtr[] { n1, n2 };
            var weights = stackalloc float[] { (float)(1 - weight), (float)weight };
            // The set owns both models from here on; interpolation is on because weights are given.
            var set = PocketSphinxNative.ngram_model_set_init(_config, models, names, weights, 2);
            if (set == IntPtr.Zero) throw new SpeechToTextException("could not interpolate the language models");
            if (PocketSphinxNative.ps_set_lm(_decoder, "dictation", set) < 0 || PocketSphinxNative.ps_set_search(_decoder, "dictation") < 0)
                throw new SpeechToTextException("could not switch to the interpolated language model");
            PocketSphinxNative.ngram_model_free(set); // the search keeps its own reference
        }
        finally { Marshal.FreeCoTaskMem(n1); Marshal.FreeCoTaskMem(n2); }
    }

    public unsafe Transcript Transcribe(DecodedAudio audio, CancellationToken ct = default)
    {
        if (audio.SampleRate != AudioDecoder.TargetSampleRate)
            audio = new DecodedAudio(Resampler.Resample(audio.Samples, audio.SampleRate, AudioDecoder.TargetSampleRate), AudioDecoder.TargetSampleRate, audio.Format);
        var pcm = new short[audio.Samples.Length];
        for (int i = 0; i < pcm.Length; i++) pcm[i] = (short)Math.Clamp(MathF.Round(audio.Samples[i] * 32767f), -32768, 32767);
        var sw = Stopwatch.StartNew();
        var segments = new List<TranscriptSegment>();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Open();
            try
            {
            const int Chunk = 2048;
            bool inUtterance = false;
            int utteranceStart = 0;
            PocketSphinxNative.ps_start_utt(_decoder);
            fixed (short* p = pcm)
            {
                for (int off = 0; off < pcm.Length; off += Chunk)
                {
                    ct.ThrowIfCancellationRequested();
                    int n = Math.Min(Chunk, pcm.Length - off);
                    if (PocketSphinxNative.ps_process_raw(_decoder, p + off, (nuint)n, 0, 0) < 0)
                        throw new SpeechToTextException("PocketSphinx failed to process audio");
                    bool speech = PocketSphinxNative.ps_get_in_speech(_decoder) != 0;
                    if (speech && !inUtterance) inUtterance = true;
                    // One utterance keeps the language model's context across pauses; very long ones are still cut at
                    // a pause to bound the decoder's memory.
                    bool cut = Options.EndUtteranceAtPauses || (off - utteranceStart) / (double)AudioDecoder.TargetSampleRate > Options.MaxUtteranceSeconds;
                    if (!speech && inUtterance && cut)
                    {
                        PocketSphinxNative.ps_end_utt(_decoder);
                        CollectUtterance(segments);
                        PocketSphinxNative.ps_start_utt(_decoder);
                        inUtterance = false;
                        utteranceStart = off;
                    }
                }
            }
            PocketSphinxNative.ps_end_utt(_decoder);
            if (inUtterance) CollectUtterance(segments);
            }
            finally { Close(); }
        }
        return new Transcript(segments, Name, audio.DurationSeconds, sw.Elapsed.TotalSeconds);
    }

    void CollectUtterance(List<TranscriptSegment> into)
    {
        var lmath = PocketSphinxNative.ps_get_logmath(_decoder);
        var words = new List<(string Word, double Start, double End, double Posterior)>();
        for (var seg = PocketSphinxNative.ps_seg_iter(_decoder); seg != IntPtr.Zero; seg = PocketSphinxNative.ps_seg_next(seg))
        {
            var word = Marshal.PtrToStringUTF8(PocketSphinxNative.ps_seg_word(seg)) ?? "";
            if (IsFiller(word)) continue;
            PocketSphinxNative.ps_seg_frames(seg, out var sf, out var ef);
            var post = PocketSphinxNative.logmath_exp(lmath, PocketSphinxNative.ps_seg_prob(seg, out _, out _, out _));
            var paren = word.IndexOf('(');
            // "read(2)": the second pronunciation of "read".
            words.Add((paren > 0 ? word[..paren] : word, (double)sf / FrameRate, (double)(ef + 1) / FrameRate, Math.Clamp(post, 0, 1)));
        }
        int first = 0;
        for (int i = 1; i <= words.Count; i++)
        {
            if (i < words.Count && words[i].Start - words[i - 1].End < Options.SegmentPause) continue;
            var span = words.GetRange(first, i - first);
            into.Add(new TranscriptSegment(Math.Round(span[0].Start, 3), Math.Round(span[^1].End, 3),
                string.Join(' ', span.Select(w => w.Word)), Math.Round(span.Average(w => w.Posterior), 4)));
            first = i;
        }
    }

    static bool IsFiller(string w) => w.Length == 0 || w[0] is '<' or '[' or '+';

    public void Dispose()
    {
        lock (_gate) { Close(); _disposed = true; }
    }
}
