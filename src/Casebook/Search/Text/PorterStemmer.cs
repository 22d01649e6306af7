namespace Casebook.Search.Text;

/// <summary>
/// Martin Porter's 1980 stemmer as implemented by SQLite FTS5's <c>porter</c> tokenizer (fts5_tokenize.c),
/// including its quirks ("bli"→"ble", "logi"→"log"; in steps 2–4 the first suffix that matches decides, even
/// when its condition then fails). Input is a folded term; characters outside a–z count as consonants, as
/// bytes above 0x7F do in FTS5. Keep in step with the FTS5 vocabulary test, which compares against SQLite itself.
/// </summary>
public static class PorterStemmer
{
    public static string Stem(string word)
    {
        if (word.Length < 3) return word;
        var b = word.ToCharArray();
        int n = b.Length;
        n = Step1A(b, n);
        n = Step1B(b, n);
        n = Step1C(b, n);
        n = Step2(b, n);
        n = Step3(b, n);
        n = Step4(b, n);
        n = Step5A(b, n);
        n = Step5B(b, n);
        return new string(b, 0, n);
    }

    static bool IsConsonant(char[] b, int i)
    {
        var c = b[i];
        if (c is 'a' or 'e' or 'i' or 'o' or 'u') return false;
        if (c == 'y') return i == 0 || !IsConsonant(b, i - 1);
        return true;
    }

    /// <summary>m() of b[0..len): the number of vowel-consonant sequences.</summary>
    static int Measure(char[] b, int len)
    {
        int m = 0, i = 0;
        while (i < len && IsConsonant(b, i)) i++;
        while (i < len)
        {
            while (i < len && !IsConsonant(b, i)) i++;
            if (i >= len) break;
            while (i < len && IsConsonant(b, i)) i++;
            m++;
        }
        return m;
    }

    static bool HasVowel(char[] b, int len)
    {
        for (int i = 0; i < len; i++) if (!IsConsonant(b, i)) return true;
        return false;
    }

    static bool EndsDoubleConsonant(char[] b, int len) =>
        len >= 2 && b[len - 1] == b[len - 2] && IsConsonant(b, len - 1);

    /// <summary>*o: stem ends consonant-vowel-consonant, last not w, x or y.</summary>
    static bool EndsCvc(char[] b, int len) =>
        len >= 3 && IsConsonant(b, len - 1) && !IsConsonant(b, len - 2) && IsConsonant(b, len - 3)
        && b[len - 1] is not ('w' or 'x' or 'y');

    static bool EndsWith(char[] b, int len, string s)
    {
        if (s.Length > len) return false;
        for (int i = 0; i < s.Length; i++) if (b[len - s.Length + i] != s[i]) return false;
        return true;
    }

    static int Replace(char[] b, int len, string suffix, string with)
    {
        int stem = len - suffix.Length;
        with.CopyTo(0, b, stem, with.Length);
        return stem + with.Length;
    }

    static int Step1A(char[] b, int n)
    {
        if (b[n - 1] != 's') return n;
        if (EndsWith(b, n, "sses") || EndsWith(b, n, "ies")) return n - 2;
        if (b[n - 2] == 's') return n;
        return n - 1;
    }

    static int Step1B(char[] b, int n)
    {
        if (EndsWith(b, n, "eed"))
            return Measure(b, n - 3) > 0 ? n - 1 : n;
        int stem;
        if (EndsWith(b, n, "ed")) stem = n - 2;
        else if (EndsWith(b, n, "ing")) stem = n - 3;
        else return n;
        if (!HasVowel(b, stem)) return n;
        n = stem;
        if (EndsWith(b, n, "at") || EndsWith(b, n, "bl") || EndsWith(b, n, "iz")) { b[n] = 'e'; return n + 1; }
        if (EndsDoubleConsonant(b, n) && b[n - 1] is not ('l' or 's' or 'z')) return n - 1;
        if (Measure(b, n) == 1 && EndsCvc(b, n)) { b[n] = 'e'; return n + 1; }
        return n;
    }

    static int Step1C(char[] b, int n)
    {
        if (b[n - 1] == 'y' && HasVowel(b, n - 1)) b[n - 1] = 'i';
        return n;
    }

    static readonly (string From, string To)[] Step2Rules =
    [
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
        ("logi", "log"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
        ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
        ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
    ];

    static readonly (string From, string To)[] Step3Rules =
    [
        ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
    ];

    static readonly string[] Step4Suffixes =
    [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism",
        "ate", "iti", "ous", "ive", "ize",
    ];

    // Porter's C code (and FTS5) switch on the penultimate letter, then take the first listed suffix that matches.
    static int ApplyFirst(char[] b, int n, (string From, string To)[] rules, int minMeasure)
    {
        if (n < 2) return n;
        char key = b[n - 2];
        foreach (var (from, to) in rules)
        {
            if (from[^2] != key || from.Length >= n || !EndsWith(b, n, from)) continue;
            return Measure(b, n - from.Length) > minMeasure ? Replace(b, n, from, to) : n;
        }
        return n;
    }

    static int Step2(char[] b, int n) => ApplyFirst(b, n, Step2Rules, 0);
    static int Step3(char[] b, int n) => ApplyFirst(b, n, Step3Rules, 0);

    static int Step4(char[] b, int n)
    {
        if (n < 2) return n;
        char key = b[n - 2];
        foreach (var s in Step4Suffixes)
        {
            if (s[^2] != key || s.Length >= n || !EndsWith(b, n, s)) continue;
            int stem = n - s.Length;
            if (s == "ion" && b[stem - 1] is not ('s' or 't')) return n;
            return Measure(b, stem) > 1 ? stem : n;
        }
        return n;
    }

    static int Step5A(char[] b, int n)
    {
        if (b[n - 1] != 'e') return n;
        int m = Measure(b, n - 1);
        if (m > 1 || (m == 1 && !EndsCvc(b, n - 1))) return n - 1;
        return n;
    }

    static int Step5B(char[] b, int n)
    {
        if (n > 1 && b[n - 1] == 'l' && b[n - 2] == 'l' && Measure(b, n - 1) > 1) return n - 1;
        return n;
    }
}
