using Casebook.Extract.Clinical;

namespace Casebook.Tests.Extract.Clinical;

public class SentenceSplitterTests
{
    static List<string> Split(string text) => SentenceSplitter.Split(text).Select(s => text[s.Start..s.End]).ToList();

    [Fact]
    public void Abbreviations_decimals_vitals_and_shorthand_do_not_end_a_sentence()
    {
        var text = "Seen by Dr. Smith today. Pt is s/p CABG, takes metoprolol 25 mg p.o. b.i.d. and aspirin. BP 120/80, temp 38.5 C. No acute distress.";
        Assert.Equal(["Seen by Dr. Smith today.", "Pt is s/p CABG, takes metoprolol 25 mg p.o. b.i.d. and aspirin.", "BP 120/80, temp 38.5 C.", "No acute distress."], Split(text));
    }

    [Fact]
    public void Headings_and_numbered_or_bulleted_lists_become_their_own_spans()
    {
        var text = "IMPRESSION:\n1. Small left pneumothorax.\n2. No pleural effusion.\n- Cardiomegaly\n- Mild edema";
        Assert.Equal(["IMPRESSION:", "1. Small left pneumothorax.", "2. No pleural effusion.", "- Cardiomegaly", "- Mild edema"], Split(text));
        Assert.Equal(["FINDINGS:", "No focal consolidation.", "IMPRESSION:", "Normal chest."], Split("FINDINGS: No focal consolidation. IMPRESSION: Normal chest."));
    }

    [Fact]
    public void Lines_wrapped_inside_a_paragraph_stay_one_sentence_but_blank_lines_split()
    {
        Assert.Equal(["There is a small left pleural\neffusion with adjacent atelectasis.", "Heart size normal"],
            Split("There is a small left pleural\neffusion with adjacent atelectasis.\n\nHeart size normal"));
    }

    [Fact]
    public void Offsets_point_into_the_original_text()
    {
        var text = "  No pneumothorax.   Stable cardiomegaly.  ";
        var spans = SentenceSplitter.Split(text);
        Assert.Equal([(2, 18), (21, 41)], spans.Select(s => (s.Start, s.End)));
        Assert.Empty(SentenceSplitter.Split("   \n\n  "));
    }
}
