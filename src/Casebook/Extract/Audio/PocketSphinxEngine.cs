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
    /// Decode this many times, each pass starting a fraction of a frame later, and vote word by word (ROVER). 1 = a
    /// single pass. Costs that many times the decoding time.
    /// </summary>
    public int FrameShiftVotes { get; set; } = 1;
    /// <summary>
    /// Prime live cepstral mean normalisation with this recording: decode its first N seconds once, discard the result,
    /// then decode the whole recording with the CMN estimate that pass left (0 = start from the model's cmninit).
    /// </summary>
    public double CmnWarmupSeconds { get; set; }
    /// <summary>
    /// Two passes: the voice activity detector first finds the utterances (front end only, no search), then each utterance
    /// is decoded whole, so cepstral mean normalisation uses that utterance's own mean (batch CMN) instead of a running
    /// estimate that starts from the model's average channel.
    /// </summary>
    public bool UtteranceBatchCmn { get; set; }
    /// <summary>With <see cref="UtteranceBatchCmn"/>: audio kept before the detector's speech onset and after its end (seconds).</summary>
    public double UtterancePadSeconds { get; set; } = 0.3;
    /// <summary>High-pass the audio at this frequency (Hz; 0 = off) before recognition, removing hum and rumble.</summary>
    public double HighPassHz { get; set; }
    /// <summary>Scale the recording so that its 99.9th-percentile absolute sample is at this level (0–1; 0 = off).</summary>
    public double NormalizeLevel { get; set; }

    /// <summary>
    /// Language weight 10 instead of 6.5: on the dictation development set (12 synthesised PriMock57 notes) it cut
    /// insertions, WER 1.03 → 0.87; jfk.wav was not used to choose it. An utterance ends after 1.0 s of silence instead
    /// of 0.5 s (-vad_postspeech 100): short pauses inside a sentence no longer cut the language model's context
    /// (jfk.wav 0.591 → 0.500, the 19 synthesised dictations unchanged at 0.893; docs/extraction.md).
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultDecoder { get; } = new Dictionary<string, string> { ["lw"] = "10", ["vad_postspeech"] = "100" };

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

    readonly record struct Word(string Text, double Start, double End, double Posterior);

    public Transcript Transcribe(DecodedAudio audio, CancellationToken ct = default)
    {
        if (audio.SampleRate != AudioDecoder.TargetSampleRate)
            audio = new DecodedAudio(Resampler.Resample(audio.Samples, audio.SampleRate, AudioDecoder.TargetSampleRate), AudioDecoder.TargetSampleRate, audio.Format);
        var sw = Stopwatch.StartNew();
        var pcm = ToPcm(audio.Samples, Options.HighPassHz, Options.NormalizeLevel);
        List<Word> words;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int votes = Math.Max(1, Options.FrameShiftVotes);
            // Each pass starts a fraction of a 10 ms frame later; the recogniser's output swings with that phase.
            var passes = new List<List<Word>>();
            for (int k = 0; k < votes; k++)
            {
                int shift = k * 160 / votes;
                passes.Add(Decode(pcm.AsSpan(Math.Min(shift, pcm.Length)), (double)shift / AudioDecoder.TargetSampleRate, ct));
            }
            words = votes == 1 ? passes[0] : Vote(passes);
        }
        return new Transcript(Segments(words), Name, audio.DurationSeconds, sw.Elapsed.TotalSeconds);
    }

    /// <summary>16-bit samples for the decoder, optionally high-passed (2nd-order Butterworth) and level-normalised.</summary>
    static short[] ToPcm(float[] samples, double highPassHz, double level)
    {
        var x = samples;
        if (highPassHz > 0)
        {
            // RBJ biquad high-pass, Q = 1/sqrt(2).
            x = new float[samples.Length];
            double w = 2 * Math.PI * highPassHz / AudioDecoder.TargetSampleRate, alpha = Math.Sin(w) / Math.Sqrt(2), cw = Math.Cos(w);
            double a0 = 1 + alpha, b0 = (1 + cw) / 2 / a0, b1 = -(1 + cw) / a0, b2 = b0, a1 = -2 * cw / a0, a2 = (1 - alpha) / a0;
            double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
            for (int i = 0; i < samples.Length; i++)
            {
                double y = b0 * samples[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
                x2 = x1; x1 = samples[i]; y2 = y1; y1 = y;
                x[i] = (float)y;
            }
        }
        float gain = 32767f;
        if (level > 0 && x.Length > 0)
        {
            var abs = new float[x.Length];
            for (int i = 0; i < x.Length; i++) abs[i] = MathF.Abs(x[i]);
            Array.Sort(abs);
            var p = abs[Math.Min(abs.Length - 1, (int)(abs.Length * 0.999))];
            if (p > 1e-6f) gain = (float)(32767 * level / p);
        }
        var pcm = new short[x.Length];
        for (int i = 0; i < pcm.Length; i++) pcm[i] = (short)Math.Clamp(MathF.Round(x[i] * gain), -32768, 32767);
        return pcm;
    }

    /// <summary>Speech stretches (sample ranges) by the library's voice activity detector, padded and merged; no search runs.</summary>
    unsafe List<(int Start, int End)> FindUtterances(ReadOnlySpan<short> pcm, CancellationToken ct)
    {
        const int Chunk = 1024;
        var ranges = new List<(int Start, int End)>();
        int pad = (int)(Options.UtterancePadSeconds * AudioDecoder.TargetSampleRate);
        Open();
        try
        {
            PocketSphinxNative.ps_start_utt(_decoder);
            int start = -1;
            fixed (short* p = pcm)
            {
                for (int off = 0; off < pcm.Length; off += Chunk)
                {
                    ct.ThrowIfCancellationRequested();
                    int n = Math.Min(Chunk, pcm.Length - off);
                    // no_search = 1: only the front end (and its VAD) runs; frames pile up and are dropped with the decoder.
                    if (PocketSphinxNative.ps_process_raw(_decoder, p + off, (nuint)n, 1, 0) < 0)
                        throw new SpeechToTextException("PocketSphinx failed to process audio");
                    bool speech = PocketSphinxNative.ps_get_in_speech(_decoder) != 0;
                    // The detector reports speech some frames after it starts (vad_startspeech + prespeech): reach back.
                    if (speech && start < 0) start = Math.Max(0, off - pad - 30 * AudioDecoder.TargetSampleRate / FrameRate);
                    else if (!speech && start >= 0) { ranges.Add((start, Math.Min(pcm.Length, off + n + pad))); start = -1; }
                }
            }
            if (start >= 0) ranges.Add((start, pcm.Length));
        }
        finally { Close(); }
        var merged = new List<(int Start, int End)>();
        foreach (var r in ranges)
            if (merged.Count > 0 && r.Start <= merged[^1].End) merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, r.End));
            else merged.Add(r);
        return merged;
    }

    /// <summary><see cref="PocketSphinxOptions.UtteranceBatchCmn"/>: each detected utterance decoded whole (full_utt), batch CMN.</summary>
    unsafe List<Word> DecodeUtterances(ReadOnlySpan<short> pcm, double offsetSeconds, CancellationToken ct)
    {
        var ranges = FindUtterances(pcm, ct);
        var words = new List<Word>();
        Open();
        try
        {
            foreach (var (start, end) in ranges)
            {
                ct.ThrowIfCancellationRequested();
                PocketSphinxNative.ps_start_utt(_decoder);
                fixed (short* p = pcm[start..end])
                    if (PocketSphinxNative.ps_process_raw(_decoder, p, (nuint)(end - start), 0, 1) < 0)
                        throw new SpeechToTextException("PocketSphinx failed to process audio");
                PocketSphinxNative.ps_end_utt(_decoder);
                CollectUtterance(words, offsetSeconds + (double)start / AudioDecoder.TargetSampleRate);
            }
        }
        finally { Close(); }
        return words;
    }

    unsafe List<Word> Decode(ReadOnlySpan<short> pcm, double offsetSeconds, CancellationToken ct)
    {
        if (Options.UtteranceBatchCmn) return DecodeUtterances(pcm, offsetSeconds, ct);
        var words = new List<Word>();
        Open();
        try
        {
            if (Options.CmnWarmupSeconds > 0)
            {
                // Live CMN adapts as it goes, so the first words are heard with the model's average channel; one pass over the
                // start of this recording moves the estimate to this speaker and microphone before the pass that counts.
                var warm = pcm[..Math.Min(pcm.Length, (int)(Options.CmnWarmupSeconds * AudioDecoder.TargetSampleRate))];
                PocketSphinxNative.ps_start_utt(_decoder);
                fixed (short* w = warm) PocketSphinxNative.ps_process_raw(_decoder, w, (nuint)warm.Length, 0, 0);
                PocketSphinxNative.ps_end_utt(_decoder);
            }
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
                        CollectUtterance(words, offsetSeconds);
                        PocketSphinxNative.ps_start_utt(_decoder);
                        inUtterance = false;
                        utteranceStart = off;
                    }
                }
            }
            PocketSphinxNative.ps_end_utt(_decoder);
            if (inUtterance) CollectUtterance(words, offsetSeconds);
        }
        finally { Close(); }
        return words;
    }

    void CollectUtterance(List<Word> into, double offsetSeconds)
    {
        var lmath = PocketSphinxNative.ps_get_logmath(_decoder);
        for (var seg = PocketSphinxNative.ps_seg_iter(_decoder); seg != IntPtr.Zero; seg = PocketSphinxNative.ps_seg_next(seg))
        {
            var word = Marshal.PtrToStringUTF8(PocketSphinxNative.ps_seg_word(seg)) ?? "";
            if (IsFiller(word)) continue;
            PocketSphinxNative.ps_seg_frames(seg, out var sf, out var ef);
            var post = PocketSphinxNative.logmath_exp(lmath, PocketSphinxNative.ps_seg_prob(seg, out _, out _, out _));
            var paren = word.IndexOf('(');
            // "read(2)": the second pronunciation of "read".
            into.Add(new Word(paren > 0 ? word[..paren] : word, offsetSeconds + (double)sf / FrameRate,
                offsetSeconds + (double)(ef + 1) / FrameRate, Math.Clamp(post, 0, 1)));
        }
    }

    List<TranscriptSegment> Segments(List<Word> words)
    {
        var segments = new List<TranscriptSegment>();
        int first = 0;
        for (int i = 1; i <= words.Count; i++)
        {
            if (i < words.Count && words[i].Start - words[i - 1].End < Options.SegmentPause) continue;
            var span = words.GetRange(first, i - first);
            // Voted words come from different passes, so take the extremes rather than the first and last word's times.
            segments.Add(new TranscriptSegment(Math.Round(span.Min(w => w.Start), 3), Math.Round(span.Max(w => w.End), 3),
                string.Join(' ', span.Select(w => w.Text)), Math.Round(span.Average(w => w.Posterior), 4)));
            first = i;
        }
        return segments;
    }

    /// <summary>
    /// ROVER-style voting (Fiscus 1997): passes are aligned word by word (edit distance) into columns, and each column
    /// keeps the word most passes agree on, ties to the higher summed posterior; a column most passes leave empty is dropped.
    /// </summary>
    static List<Word> Vote(List<List<Word>> passes)
    {
        var columns = passes[0].Select(w => new List<Word?> { w }).ToList();
        for (int p = 1; p < passes.Count; p++)
        {
            var pivot = columns.Select(c => Best(c)?.Text).ToList();
            var hyp = passes[p];
            var d = new int[pivot.Count + 1, hyp.Count + 1];
            for (int i = 0; i <= pivot.Count; i++) d[i, 0] = i;
            for (int j = 0; j <= hyp.Count; j++) d[0, j] = j;
            for (int i = 1; i <= pivot.Count; i++)
                for (int j = 1; j <= hyp.Count; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (pivot[i - 1] == hyp[j - 1].Text ? 0 : 1));
            var merged = new List<List<Word?>>();
            int a = pivot.Count, b = hyp.Count;
            while (a > 0 || b > 0)
            {
                if (a > 0 && b > 0 && d[a, b] == d[a - 1, b - 1] + (pivot[a - 1] == hyp[b - 1].Text ? 0 : 1))
                { columns[a - 1].Add(hyp[b - 1]); merged.Add(columns[a - 1]); a--; b--; }
                else if (a > 0 && d[a, b] == d[a - 1, b] + 1) { columns[a - 1].Add(null); merged.Add(columns[a - 1]); a--; }
                else { var c = Enumerable.Repeat<Word?>(null, p).ToList(); c.Add(hyp[b - 1]); merged.Add(c); b--; }
            }
            merged.Reverse();
            columns = merged;
        }
        var result = new List<Word>();
        foreach (var c in columns) if (Best(c) is { } w) result.Add(w);
        return result;
    }

    static Word? Best(List<Word?> column)
    {
        int empty = column.Count(w => w == null);
        var best = column.Where(w => w != null).GroupBy(w => w!.Value.Text)
            .Select(g => (Count: g.Count(), Score: g.Sum(w => w!.Value.Posterior), First: g.First()!.Value))
            .OrderByDescending(g => g.Count).ThenByDescending(g => g.Score).FirstOrDefault();
        if (best.Count == 0 || best.Count < empty) return null;
        return best.First with { Posterior = best.Score / best.Count };
    }

    static bool IsFiller(string w) => w.Length == 0 || w[0] is '<' or '[' or '+';

    public void Dispose()
    {
        lock (_gate) { Close(); _disposed = true; }
    }
}
