using System.Text;

namespace Casebook.Eval;

/// <summary>Word and character error rates (Levenshtein distance over the reference length), for OCR and ASR.</summary>
public static class RecognitionMetrics
{
    /// <summary>Lower case, letters/digits/apostrophes kept, everything else a space; words split on spaces.</summary>
    public static string[] NormalizeWords(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text.ToLowerInvariant()) sb.Append(char.IsLetterOrDigit(ch) || ch == '\'' ? ch : ' ');
        return sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>(edits, reference words) after <see cref="NormalizeWords"/>.</summary>
    public static (int Edits, int Length) WordErrors(string reference, string hypothesis)
    {
        var r = NormalizeWords(reference);
        return (Distance<string>(r, NormalizeWords(hypothesis)), r.Length);
    }

    public static double WordErrorRate(string reference, string hypothesis)
    {
        var (e, n) = WordErrors(reference, hypothesis);
        return n == 0 ? 0 : (double)e / n;
    }

    /// <summary>Whitespace runs collapsed to one space, then character edits over reference characters.</summary>
    public static (int Edits, int Length) CharacterErrors(string reference, string hypothesis)
    {
        var r = CollapseSpace(reference);
        return (Distance<char>(r.ToCharArray(), CollapseSpace(hypothesis).ToCharArray()), r.Length);
    }

    public static double CharacterErrorRate(string reference, string hypothesis)
    {
        var (e, n) = CharacterErrors(reference, hypothesis);
        return n == 0 ? 0 : (double)e / n;
    }

    static string CollapseSpace(string s) => string.Join(' ', s.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));

    static int Distance<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        var cmp = EqualityComparer<T>.Default;
        var prev = new int[b.Count + 1];
        var cur = new int[b.Count + 1];
        for (int j = 0; j <= b.Count; j++) prev[j] = j;
        for (int i = 1; i <= a.Count; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Count; j++)
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (cmp.Equals(a[i - 1], b[j - 1]) ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Count];
    }
}
