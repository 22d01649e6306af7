using System.Text.Json;
using Casebook.Cli;
using Casebook.Extract.Audio;

namespace Casebook.Tests.Extract.Audio;

[Collection("audio")]
public sealed class SpeechToTextTests(AudioFixture audio)
{
    [Fact]
    public void PocketSphinx_hears_the_dictated_words_with_times()
    {
        using var engine = new PocketSphinxEngine();
        var t = engine.Transcribe(AudioDecoder.Decode(audio.Wav));
        Assert.Equal("pocketsphinx", t.Engine);
        Assert.Contains("patient", t.Text);
        Assert.Contains("fever", t.Text);
        var s = Assert.Single(t.Segments);
        Assert.InRange(s.Start, 0, 1.0);
        Assert.InRange(s.End, s.Start + 0.5, t.DurationSeconds + 0.05);
        Assert.InRange(s.Confidence, 0, 1);
        Assert.True(t.RealTimeFactor > 0);
    }

    [Fact]
    public void Frame_shifted_passes_vote_on_each_word()
    {
        using var engine = new PocketSphinxEngine(new PocketSphinxOptions { FrameShiftVotes = 3 });
        var t = engine.Transcribe(AudioDecoder.Decode(audio.Wav));
        // Content is not asserted: on this synthetic sentence the shifted passes outvote the unshifted one.
        Assert.NotEmpty(t.Segments);
        Assert.Equal(t.Text, string.Join(' ', t.Segments.Select(s => s.Text)));
        Assert.All(t.Segments, s => Assert.True(s.End > s.Start && s.Confidence is >= 0 and <= 1));
        Assert.Equal(t.Segments.OrderBy(s => s.Start), t.Segments);
    }

    [Fact]
    public void PocketSphinx_results_do_not_depend_on_what_it_heard_before()
    {
        using var engine = new PocketSphinxEngine();
        var a = AudioDecoder.Decode(audio.Wav);
        var first = engine.Transcribe(a).Text;
        engine.Transcribe(AudioDecoder.Decode(audio.Path("mp3")));
        Assert.Equal(first, engine.Transcribe(a).Text);
    }

    [Fact]
    public void Domain_language_model_is_built_from_report_text_and_interpolated()
    {
        using var dir = new TempDirectory();
        var vocab = DictationLanguageModel.ReadDictionaryWords(Path.Combine(PocketSphinxOptions.DebianModelDirectory, "cmudict-en-us.dict"));
        string[] reports =
        [
            "The patient has a fever and a cough. No pleural effusion. The patient has a cough.",
            "FINDINGS: The lungs are clear. IMPRESSION: The patient has pneumonia and a fever.",
        ];
        var arpa = DictationLanguageModel.BuildCached(reports, vocab, dir["lm.arpa"]);
        var text = File.ReadAllText(arpa);
        Assert.Contains("\\3-grams:", text);
        Assert.Contains("the patient has", text);
        // Unigram probabilities (all words but <s>) sum to one.
        var uni = text.Split("\\1-grams:")[1].Split("\\2-grams:")[0].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).Where(c => c.Length >= 2 && c[1] != "<s>").Sum(c => Math.Pow(10, double.Parse(c[0], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.InRange(uni, 0.99, 1.01);
        var stamp = File.GetLastWriteTimeUtc(arpa);
        DictationLanguageModel.BuildCached(reports, vocab, dir["lm.arpa"]);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(arpa)); // same texts: reused

        using var engine = new PocketSphinxEngine(new PocketSphinxOptions { DomainLanguageModel = arpa, DomainWeight = 0.5 });
        var t = engine.Transcribe(AudioDecoder.Decode(audio.Wav));
        Assert.Contains("fever", t.Text);
    }

    [Fact]
    public void Whisper_without_a_model_says_where_to_get_one()
    {
        var e = Assert.Throws<SpeechModelMissingException>(() => new WhisperEngine(new WhisperOptions { ModelPath = "/nonexistent/ggml-base.en.bin" }));
        Assert.Contains("/nonexistent/ggml-base.en.bin", e.Message);
        Assert.Contains("huggingface.co/ggerganov/whisper.cpp", e.Message);
        Assert.Throws<SpeechModelMissingException>(() => new WhisperEngine(new WhisperOptions()));
    }

    [Fact]
    public void Whisper_with_a_file_that_is_not_a_model_fails_to_load_cleanly()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir["fake.bin"], Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 31 % 256)).ToArray());
        var e = Assert.ThrowsAny<SpeechToTextException>(() => new WhisperEngine(new WhisperOptions { ModelPath = dir["fake.bin"] }));
        Assert.Contains("fake.bin", e.Message);
        File.WriteAllBytes(dir["tiny.bin"], [1, 2, 3]);
        Assert.ThrowsAny<SpeechToTextException>(() => new WhisperEngine(new WhisperOptions { ModelPath = dir["tiny.bin"] }));
    }

    [Fact]
    public void Configuration_picks_the_engine()
    {
        using (var ps = SpeechToText.Create(new SpeechToTextOptions())) Assert.IsType<PocketSphinxEngine>(ps);
        Assert.Throws<SpeechModelMissingException>(() => SpeechToText.Create(new SpeechToTextOptions { Engine = "whisper", WhisperModelPath = "/no/model.bin" }));
        Assert.Throws<SpeechToTextException>(() => SpeechToText.Create(new SpeechToTextOptions { Engine = "dragon" }));
    }

    [Fact]
    public void Transcribe_command_prints_text_or_json_segments()
    {
        var o = new StringWriter(); var err = new StringWriter();
        Assert.Equal(0, ExtractCommands.Transcribe([audio.Wav, "--json"], o, err));
        var root = JsonDocument.Parse(o.ToString()).RootElement;
        Assert.Equal("pocketsphinx", root.GetProperty("engine").GetString());
        var segments = root.GetProperty("segments").EnumerateArray().ToList();
        Assert.NotEmpty(segments);
        Assert.All(segments, seg => Assert.True(seg.GetProperty("end").GetDouble() > seg.GetProperty("start").GetDouble()));
        Assert.Equal(root.GetProperty("text").GetString(), string.Join(' ', segments.Select(seg => seg.GetProperty("text").GetString())));
        Assert.Contains("patient", root.GetProperty("text").GetString());

        o = new StringWriter(); err = new StringWriter();
        Assert.Equal(3, ExtractCommands.Transcribe([audio.Wav, "--engine", "whisper", "--model", "/no/such/model.bin"], o, err));
        Assert.Contains("huggingface.co", err.ToString());
        Assert.Equal("", o.ToString());
    }
}
