using System.Text;
using UglyToad.PdfPig.Content;

namespace Casebook.Extract.Documents;

/// <summary>Reads a PDF page's text layer into lines and blocks, and decides whether it is usable.</summary>
static class PdfTextLayer
{
    /// <summary>The page's text, or null when the page should be OCR'd (too few real letters, and it has images).</summary>
    public static ExtractedPage? Read(Page page, int minLetters)
    {
        var words = page.GetWords().Where(w => !string.IsNullOrWhiteSpace(w.Text)).ToList();
        int letters = 0, junk = 0;
        foreach (var w in words)
            foreach (var ch in w.Text)
            {
                if (char.IsLetterOrDigit(ch)) letters++;
                else if (ch == '\uFFFD' || char.IsControl(ch) || char.GetUnicodeCategory(ch) == System.Globalization.UnicodeCategory.PrivateUse) junk++;
            }
        // (cid:NN) placeholders and replacement characters mean fonts without a Unicode map: the layer is unreadable.
        bool garbled = junk > letters / 4 || words.Count(w => w.Text.StartsWith("(cid:", StringComparison.Ordinal)) > words.Count / 4;
        bool hasImages = page.NumberOfImages > 0;
        if ((letters < minLetters || garbled) && hasImages) return null;

        double h = page.Height;
        var extracted = new List<ExtractedWord>(words.Count);
        var text = new StringBuilder();
        foreach (var line in Lines(words))
        {
            if (text.Length > 0) text.Append(line.GapBefore ? "\n\n" : "\n");
            for (int i = 0; i < line.Words.Count; i++)
            {
                var w = line.Words[i];
                if (i > 0) text.Append(' ');
                text.Append(w.Text);
                var b = w.BoundingBox;
                extracted.Add(new ExtractedWord(w.Text, 100, new PageBox(b.Left, h - b.Top, b.Right, h - b.Bottom)));
            }
        }
        return new ExtractedPage
        {
            PageNumber = page.Number, Text = text.ToString(), Source = PageSource.TextLayer,
            MeanConfidence = extracted.Count > 0 ? 100 : 0, Words = extracted, Width = page.Width, Height = page.Height,
        };
    }

    sealed record Line(List<Word> Words, double Baseline, double Height, bool GapBefore);

    /// <summary>Groups words by baseline (top to bottom, left to right); a vertical gap over 1.8 line heights starts a block.</summary>
    static List<Line> Lines(List<Word> words)
    {
        var sorted = words.OrderByDescending(w => w.BoundingBox.Bottom).ThenBy(w => w.BoundingBox.Left).ToList();
        var lines = new List<Line>();
        foreach (var w in sorted)
        {
            var hgt = Math.Max(1, w.BoundingBox.Height);
            var line = lines.Count > 0 && Math.Abs(lines[^1].Baseline - w.BoundingBox.Bottom) < 0.5 * Math.Max(hgt, lines[^1].Height) ? lines[^1] : null;
            if (line != null) { line.Words.Add(w); continue; }
            bool gap = lines.Count > 0 && lines[^1].Baseline - w.BoundingBox.Bottom > 1.8 * Math.Max(hgt, lines[^1].Height);
            lines.Add(new Line([w], w.BoundingBox.Bottom, hgt, gap));
        }
        foreach (var l in lines) l.Words.Sort((a, b) => a.BoundingBox.Left.CompareTo(b.BoundingBox.Left));
        return lines;
    }
}
