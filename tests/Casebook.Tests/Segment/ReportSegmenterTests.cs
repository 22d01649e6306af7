using Casebook.Segment;
using Xunit;

namespace Casebook.Tests.Segment;

public class ReportSegmenterTests
{
    static void AssertExactSpans(string text, IReadOnlyList<ReportParagraph> paragraphs)
    {
        int previousEnd = 0;
        foreach (var p in paragraphs)
        {
            Assert.Equal(text.Substring(p.CharStart, p.CharEnd - p.CharStart), p.Text);
            Assert.True(p.CharStart >= previousEnd, $"overlap at {p.CharStart}");
            Assert.Equal(p.Text.Trim(), p.Text);
            Assert.NotEmpty(p.Text);
            previousEnd = p.CharEnd;
        }
    }

    [Fact]
    public void Radiology_headers_with_colons_split_into_canonical_sections()
    {
        var text = "EXAM: Chest PA and lateral\nCLINICAL HISTORY: Cough.\nCOMPARISON: None.\n\nFINDINGS: The heart is normal in size. No pleural effusion.\n\nIMPRESSION: No acute disease.";
        var ps = ReportSegmenter.Segment(text);
        AssertExactSpans(text, ps);
        Assert.Equal(["EXAM", "INDICATION", "COMPARISON", "FINDINGS", "IMPRESSION"], ps.Select(p => p.Section));
        Assert.Equal("The heart is normal in size. No pleural effusion.", ps[3].Text);
        Assert.Equal("No acute disease.", ps[4].Text);
    }

    [Fact]
    public void Headers_on_their_own_line_dashes_and_markdown()
    {
        var text = "## Findings\nMild cardiomegaly.\n\nSmall left effusion.\n\nIMPRESSION\nCardiomegaly.\nRecommendation - Follow-up in 6 weeks.\n# Addendum\nDiscussed with Dr. Smith.";
        var ps = ReportSegmenter.Segment(text);
        AssertExactSpans(text, ps);
        Assert.Equal(
            [("FINDINGS", "Mild cardiomegaly."), ("FINDINGS", "Small left effusion."), ("IMPRESSION", "Cardiomegaly."),
             ("RECOMMENDATION", "Follow-up in 6 weeks."), ("ADDENDUM", "Discussed with Dr. Smith.")],
            ps.Select(p => (p.Section, p.Text)));
    }

    [Fact]
    public void Headerless_text_is_one_body_section()
    {
        var text = "  Heart size normal. Lungs clear.  ";
        var ps = ReportSegmenter.Segment(text);
        var p = Assert.Single(ps);
        Assert.Equal(ReportSections.Body, p.Section);
        Assert.Equal("Heart size normal. Lungs clear.", p.Text);
        Assert.Equal(2, p.CharStart);
        Assert.Empty(ReportSegmenter.Segment("   "));
        Assert.Empty(ReportSegmenter.Segment(null));
    }

    [Fact]
    public void Text_before_the_first_header_is_body_and_inline_headers_after_sentences_count()
    {
        var text = "Chest radiograph. Findings: lungs clear. Impression: normal.";
        var ps = ReportSegmenter.Segment(text);
        AssertExactSpans(text, ps);
        Assert.Equal([("BODY", "Chest radiograph."), ("FINDINGS", "lungs clear."), ("IMPRESSION", "normal.")], ps.Select(p => (p.Section, p.Text)));
    }

    [Fact]
    public void Words_that_look_like_headers_inside_sentences_do_not_split()
    {
        var text = "The history is notable, plan: none. Findings show effusion: small.\nNeck: supple.";
        var ps = ReportSegmenter.Segment(text);
        Assert.Equal(["BODY"], ps.Select(p => p.Section).Distinct());
    }

    [Fact]
    public void Long_paragraphs_split_into_sentence_groups_with_exact_offsets()
    {
        var sentence = "There is a small left pleural effusion with adjacent atelectasis in the lower lobe. ";
        var text = "FINDINGS: " + string.Concat(Enumerable.Repeat(sentence, 20)) + new string('w', 3) + " " + string.Join(" ", Enumerable.Repeat("word", 50)) + ".";
        var ps = ReportSegmenter.Segment(text, maxWords: 40);
        AssertExactSpans(text, ps);
        Assert.True(ps.Count > 5);
        Assert.All(ps, p => Assert.True(p.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= 40, p.Text));
        Assert.All(ps.Take(10), p => Assert.EndsWith("lobe.", p.Text));
        Assert.Equal(text.TrimEnd().Length, ps[^1].CharEnd);
    }

    [Fact]
    public void Numbered_lists_and_abbreviations_do_not_end_sentences_early()
    {
        var text = "PLAN: 1. Start Dr. Smith's protocol today and review. 2. Repeat film.";
        var ps = ReportSegmenter.Segment(text, maxWords: 9);
        AssertExactSpans(text, ps);
        Assert.Equal(["1. Start Dr. Smith's protocol today and review.", "2. Repeat film."], ps.Select(p => p.Text));
    }

    /// <summary>Indiana (IU X-ray) reports assembled the way ingest writes them: each column must come back as its section.</summary>
    [Fact]
    public void Iu_xray_reports_come_back_section_by_section()
    {
        var rows = Csv.Read(SharedData.Require("text/iu-xray/indiana_reports.csv"));
        var header = rows[0];
        int ind = Array.IndexOf(header, "indication"), cmp = Array.IndexOf(header, "comparison"),
            fnd = Array.IndexOf(header, "findings"), imp = Array.IndexOf(header, "impression");
        int checkedReports = 0, skipped = 0;
        foreach (var row in rows.Skip(1).Where(r => r.Length == header.Length))
        {
            var parts = new List<(string Section, string Value)>();
            void Add(string section, string value)
            {
                // The segmenter trims MTSamples-style commas at span ends; the expected text is trimmed the same way.
                var v = value.Trim().Trim(',').Trim();
                if (v.Any(char.IsLetterOrDigit)) parts.Add((section, v));
            }
            Add("INDICATION", row[ind]); Add("COMPARISON", row[cmp]); Add("FINDINGS", row[fnd]); Add("IMPRESSION", row[imp]);
            // A few Indiana cells carry a whole report ("IMPRESSION: Exam: … FINDINGS: …"); those headers are real and
            // split the cell, so the cell-by-cell comparison only holds for cells without a colon.
            if (parts.Count == 0 || parts.Any(p => p.Value.Contains(':'))) { skipped++; continue; }
            var text = string.Join("\n\n", parts.Select(p => $"{p.Section}: {p.Value}"));
            var ps = ReportSegmenter.Segment(text);
            AssertExactSpans(text, ps);
            foreach (var (section, value) in parts)
            {
                var joined = string.Join(" ", ps.Where(p => p.Section == section).Select(p => p.Text));
                Assert.True(joined == value, $"report {row[0]} {section}: expected [{value}] got [{joined}]");
            }
            checkedReports++;
        }
        Assert.True(checkedReports > 3000 && skipped < 100, $"only {checkedReports} reports ({skipped} skipped)");
    }

    [Fact]
    public void Mtsamples_flattened_notes_split_on_their_headers()
    {
        var rows = Csv.Read(SharedData.Require("text/mtsamples/mtsamples.csv"));
        var first = rows[0][4]; // the file has no header row
        var ps = ReportSegmenter.Segment(first);
        AssertExactSpans(first, ps);
        Assert.Equal(["SUBJECTIVE", "MEDICATIONS", "ALLERGIES", "OBJECTIVE", "ASSESSMENT", "PLAN"], ps.Select(p => p.Section).Distinct());
        Assert.Equal("Her only medication currently is Ortho Tri-Cyclen and the Allegra.", ps.Single(p => p.Section == "MEDICATIONS").Text);
        Assert.StartsWith("Vitals:  Weight was 130 pounds", ps.First(p => p.Section == "OBJECTIVE").Text);
        Assert.Equal("Allergic rhinitis.", ps.Single(p => p.Section == "ASSESSMENT").Text);

        int sectioned = 0;
        foreach (var row in rows.Where(r => r.Length > 4 && r[4].Length > 0))
        {
            var text = row[4];
            var all = ReportSegmenter.Segment(text);
            AssertExactSpans(text, all);
            Assert.All(all, p => Assert.True(p.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= ReportSegmenter.DefaultMaxWords));
            if (all.Any(p => p.Section != ReportSections.Body)) sectioned++;
            Assert.DoesNotContain(all, p => p.Section is "HEENT" or "NECK" or "LUNGS");
        }
        Assert.True(sectioned > 350, $"only {sectioned} notes had sections");
    }

    [Fact]
    public void Mtsamples_header_followed_by_a_numbered_list_without_colon()
    {
        var text = "PREOPERATIVE DIAGNOSES,1.  Basal cell nevus syndrome.,2.  Cystic lesion.,POSTOPERATIVE DIAGNOSES,1.  Same.,PROCEDURE,1.  Removal of cystic lesion.,INDICATIONS FOR THE PROCEDURE:, The patient is a 9-year-old.";
        var ps = ReportSegmenter.Segment(text);
        AssertExactSpans(text, ps);
        Assert.Equal(["PREOPERATIVE DIAGNOSIS", "POSTOPERATIVE DIAGNOSIS", "PROCEDURE", "INDICATION FOR PROCEDURE"], ps.Select(p => p.Section));
        Assert.Equal("1.  Basal cell nevus syndrome.,2.  Cystic lesion.", ps[0].Text);
        Assert.Equal("The patient is a 9-year-old.", ps[3].Text);
    }

    [Fact]
    public void Primock_style_note_abbreviations_with_colons()
    {
        var text = "3/7 hx of diarrhea.\n\nPMH: Asthma\nDH: Inhalers\nSH: works as an accountant.\n\nImp: gastroenteritis \n\nPlan:\nConservative management.";
        var ps = ReportSegmenter.Segment(text);
        AssertExactSpans(text, ps);
        Assert.Equal([("BODY", "3/7 hx of diarrhea."), ("PAST MEDICAL HISTORY", "Asthma"), ("MEDICATIONS", "Inhalers"),
            ("SOCIAL HISTORY", "works as an accountant."), ("IMPRESSION", "gastroenteritis"), ("PLAN", "Conservative management.")],
            ps.Select(p => (p.Section, p.Text)));
    }

    [Fact]
    public void Primock57_consultation_notes_keep_exact_offsets()
    {
        var dir = SharedData.Require("text/primock57/notes");
        var sections = new HashSet<string>();
        int notes = 0;
        foreach (var file in Directory.GetFiles(dir, "*.json"))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var text = doc.RootElement.GetProperty("note").GetString()!;
            var ps = ReportSegmenter.Segment(text);
            AssertExactSpans(text, ps);
            Assert.NotEmpty(ps);
            foreach (var p in ps) sections.Add(p.Section);
            notes++;
        }
        Assert.True(notes >= 50, $"only {notes} notes");
        Assert.Contains("PLAN", sections);
        Assert.Contains("PAST MEDICAL HISTORY", sections);
    }

    [Fact]
    public void Random_text_never_throws_and_spans_stay_exact()
    {
        string[] pieces = ["FINDINGS:", "Impression", "\n", "\n\n", ",", ".", " ", "## Plan", "PE:", "word", "Dr.", "1.", ":", "-", "\r\n", "HEENT:", "é", "\t", "ESTIMATED BLOOD LOSS:"];
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var text = string.Concat(Enumerable.Range(0, rng.Next(0, 40)).Select(_ => pieces[rng.Next(pieces.Length)] + (rng.Next(3) == 0 ? " " : "")));
            var ps = ReportSegmenter.Segment(text, maxWords: rng.Next(1, 12));
            AssertExactSpans(text, ps);
        }
        var huge = new string('x', 200_000);
        var one = ReportSegmenter.Segment(huge);
        Assert.Equal(huge.Length, Assert.Single(one).CharEnd);
    }
}
