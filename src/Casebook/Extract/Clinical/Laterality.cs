namespace Casebook.Extract.Clinical;

/// <summary>
/// Laterality of a concept mention: "left", "right" or "bilateral" when the sentence gives it next to the concept —
/// in the concept itself ("left lower lobe", "RLL"), in the few words before it ("small left pleural effusion",
/// "right-sided"), or right after it ("effusion on the left", "opacities bilaterally"); null otherwise.
/// </summary>
public static class Laterality
{
    public const string Left = "left", Right = "right", Bilateral = "bilateral";
    const int WordsBefore = 4, WordsAfter = 6;

    public static string? Of(IReadOnlyList<ClinicalToken> tokens, int from, int to, int conceptStart, int conceptEnd)
    {
        bool left = false, right = false, both = false;
        void See(string w)
        {
            switch (w)
            {
                case "left" or "lt" or "lll" or "lul" or "lingula" or "lingular": left = true; break;
                case "right" or "rt" or "rll" or "rul" or "rml": right = true; break;
                case "bilateral" or "bilaterally" or "bibasilar" or "bibasal" or "both" or "bilat": both = true; break;
            }
        }
        for (int i = conceptStart; i < conceptEnd; i++) See(tokens[i].Norm);
        int words = 0;
        for (int i = conceptStart - 1; i >= from && words < WordsBefore; i--)
        {
            if (tokens[i].IsPunctuation) { if (tokens[i].Norm is "," or ";" or ":" or ".") break; continue; }
            words++;
            See(tokens[i].Norm);
        }
        words = 0;
        for (int i = conceptEnd; i < to && words < WordsAfter; i++)
        {
            if (tokens[i].IsPunctuation) { if (tokens[i].Norm is ";" or ":" or ".") break; continue; }
            words++;
            var w = tokens[i].Norm;
            // Only "on the left", "left-sided", "bilaterally": a bare "left" after the concept usually starts another phrase.
            if (w is "bilaterally" or "bilateral") both = true;
            else if (w is "left" or "right" && i > conceptEnd && tokens[i - 1].Norm is "the" or "on")
            {
                if (w == "left") left = true; else right = true;
            }
        }
        if (both || (left && right)) return Bilateral;
        return left ? Left : right ? Right : null;
    }
}
