using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Casebook.Extract.Audio;

/// <summary>
/// Builds a trigram language model (ARPA) from report text, for PocketSphinx to interpolate with its general
/// English model so dictated clinical words ("effusion", "pneumothorax") win over sound-alikes.
/// <para>Estimation: absolute discounting with backoff, D = n1 / (n1 + 2 n2) per order (Ney et al. 1994); singleton
/// trigrams are pruned; backoff weights renormalise each context exactly. Only words in the recogniser's
/// dictionary are kept (others cannot be recognised anyway), and an n-gram that crosses one is dropped.</para>
/// </summary>
public static partial class DictationLanguageModel
{
    [GeneratedRegex(@"[.!?;:\n\r]+|,(?=\s*[A-Z])")] private static partial Regex SentenceBreak();
    [GeneratedRegex(@"[a-z]+(?:'[a-z]+)?")] private static partial Regex Word();

    /// <summary>Words of a PocketSphinx dictionary ("word PH ON ES", alternates "word(2)" folded).</summary>
    public static HashSet<string> ReadDictionaryWords(string dictionaryPath)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(dictionaryPath))
        {
            var end = line.IndexOfAny([' ', '\t', '(']);
            if (end > 0) words.Add(line[..end]);
        }
        return words;
    }

    /// <summary>Lower-case sentences of word tokens, as a dictating doctor would say them.</summary>
    public static IEnumerable<string[]> Sentences(string text)
    {
        foreach (var part in SentenceBreak().Split(text))
        {
            var words = Word().Matches(part.ToLowerInvariant()).Select(m => m.Value).ToArray();
            if (words.Length > 0) yield return words;
        }
    }

    /// <summary>
    /// Writes an ARPA trigram model of <paramref name="texts"/> to <paramref name="arpaPath"/>, or reuses the file
    /// already built from the same texts and vocabulary (a hash in the first line says which).
    /// </summary>
    public static string BuildCached(IEnumerable<string> texts, ISet<string> vocabulary, string arpaPath)
    {
        var all = texts.ToList();
        var hash = Hash(all, vocabulary.Count);
        if (File.Exists(arpaPath) && File.ReadLines(arpaPath).FirstOrDefault() == $"# casebook dictation LM {hash}") return arpaPath;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(arpaPath))!);
        var tmp = arpaPath + ".tmp";
        using (var w = new StreamWriter(tmp, false, new UTF8Encoding(false)))
        {
            w.WriteLine($"# casebook dictation LM {hash}");
            Build(all, vocabulary, w);
        }
        File.Move(tmp, arpaPath, overwrite: true);
        return arpaPath;
    }

    static string Hash(List<string> texts, int vocab)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(Encoding.UTF8.GetBytes($"v1 {vocab}\n"));
        foreach (var t in texts) { h.AppendData(Encoding.UTF8.GetBytes(t)); h.AppendData("\0"u8); }
        return Convert.ToHexString(h.GetHashAndReset())[..16];
    }

    /// <summary>Writes the ARPA model (1- to 3-grams) of <paramref name="texts"/> to <paramref name="arpa"/>.</summary>
    public static void Build(IEnumerable<string> texts, ISet<string> vocabulary, TextWriter arpa, int minTrigramCount = 2)
    {
        var ids = new Dictionary<string, int> { ["<s>"] = 0, ["</s>"] = 1 };
        var names = new List<string> { "<s>", "</s>" };
        var c1 = new Dictionary<int, long>();
        var c2 = new Dictionary<long, long>();
        var c3 = new Dictionary<(int, int, int), long>();
        long tokens = 0;
        foreach (var text in texts)
            foreach (var sentence in Sentences(text))
            {
                // Split at out-of-vocabulary words: n-grams never bridge a word the recogniser cannot say.
                var run = new List<int> { 0 };
                void Flush(bool end)
                {
                    if (end) run.Add(1);
                    if (run.Count >= 2 || (run.Count == 1 && run[0] > 1))
                    {
                        for (int i = 0; i < run.Count; i++)
                        {
                            if (run[i] != 0) { c1[run[i]] = c1.GetValueOrDefault(run[i]) + 1; tokens++; }
                            if (i >= 1) { var k = Key(run[i - 1], run[i]); c2[k] = c2.GetValueOrDefault(k) + 1; }
                            if (i >= 2) { var k = (run[i - 2], run[i - 1], run[i]); c3[k] = c3.GetValueOrDefault(k) + 1; }
                        }
                    }
                    run.Clear();
                }
                foreach (var w in sentence)
                {
                    if (!vocabulary.Contains(w)) { Flush(false); continue; }
                    if (!ids.TryGetValue(w, out var id)) { id = names.Count; ids[w] = id; names.Add(w); }
                    run.Add(id);
                }
                Flush(true);
            }
        if (tokens == 0) throw new ArgumentException("no in-vocabulary words in the texts: cannot build a language model");

        // Unigrams: absolute discounting towards a uniform floor over the words seen.
        int v = names.Count - 1; // all but <s>
        double d1 = Discount(c1.Values);
        var p1 = new double[names.Count];
        for (int i = 1; i < names.Count; i++) p1[i] = (Math.Max(c1.GetValueOrDefault(i) - d1, 0) + d1 * c1.Count / (double)v) / tokens;

        // Bigrams.
        double d2 = Discount(c2.Values);
        var ctx2 = new Dictionary<int, (long Total, List<int> Next)>();
        foreach (var (k, c) in c2)
        {
            var (a, b) = Unkey(k);
            if (!ctx2.TryGetValue(a, out var e)) e = (0, new List<int>());
            ctx2[a] = (e.Total + c, e.Next);
            e.Next.Add(b);
        }
        var p2 = new Dictionary<long, double>(c2.Count);
        var bow1 = new double[names.Count];
        Array.Fill(bow1, 1.0);
        foreach (var (a, (total, next)) in ctx2)
        {
            double kept = 0, lower = 0;
            foreach (var b in next) { var p = (c2[Key(a, b)] - d2) / total; p2[Key(a, b)] = p; kept += p; lower += p1[b]; }
            bow1[a] = (1 - kept) / Math.Max(1e-12, 1 - lower);
        }
        double P2(int a, int b) => p2.TryGetValue(Key(a, b), out var p) ? p : bow1[a] * p1[b];

        // Trigrams (singletons pruned; the leftover mass goes to the backoff).
        double d3 = Discount(c3.Values);
        var ctx3 = new Dictionary<long, (long Total, List<int> Next)>();
        foreach (var ((a, b, c), n) in c3)
        {
            var key = Key(a, b);
            if (!ctx3.TryGetValue(key, out var e)) e = (0, new List<int>());
            ctx3[key] = (e.Total + n, e.Next);
            if (n >= minTrigramCount) e.Next.Add(c);
        }
        var p3 = new List<(int, int, int, double)>();
        var bow2 = new Dictionary<long, double>();
        foreach (var (key, (total, next)) in ctx3)
        {
            if (next.Count == 0) continue;
            var (a, b) = Unkey(key);
            double kept = 0, lower = 0;
            foreach (var c in next) { var p = (c3[(a, b, c)] - d3) / total; p3.Add((a, b, c, p)); kept += p; lower += P2(b, c); }
            bow2[key] = (1 - kept) / Math.Max(1e-12, 1 - lower);
        }

        var inv = CultureInfo.InvariantCulture;
        string L(double p) => Math.Log10(Math.Max(p, 1e-99)).ToString("0.######", inv);
        arpa.WriteLine("\\data\\");
        arpa.WriteLine($"ngram 1={names.Count}");
        arpa.WriteLine($"ngram 2={p2.Count}");
        arpa.WriteLine($"ngram 3={p3.Count}");
        arpa.WriteLine();
        arpa.WriteLine("\\1-grams:");
        for (int i = 0; i < names.Count; i++)
            arpa.WriteLine($"{(i == 0 ? "-99" : L(p1[i]))}\t{names[i]}\t{L(bow1[i])}");
        arpa.WriteLine();
        arpa.WriteLine("\\2-grams:");
        foreach (var (k, p) in p2.OrderBy(e => e.Key))
        {
            var (a, b) = Unkey(k);
            arpa.Write($"{L(p)}\t{names[a]} {names[b]}");
            arpa.WriteLine(bow2.TryGetValue(k, out var bw) ? $"\t{L(bw)}" : "");
        }
        arpa.WriteLine();
        arpa.WriteLine("\\3-grams:");
        foreach (var (a, b, c, p) in p3.OrderBy(e => (e.Item1, e.Item2, e.Item3)))
            arpa.WriteLine($"{L(p)}\t{names[a]} {names[b]} {names[c]}");
        arpa.WriteLine();
        arpa.WriteLine("\\end\\");
    }

    static double Discount(IEnumerable<long> counts)
    {
        long n1 = 0, n2 = 0;
        foreach (var c in counts) { if (c == 1) n1++; else if (c == 2) n2++; }
        return n1 + n2 == 0 ? 0.5 : Math.Clamp(n1 / (double)(n1 + 2 * n2), 0.1, 0.9);
    }

    static long Key(int a, int b) => ((long)a << 32) | (uint)b;
    static (int, int) Unkey(long k) => ((int)(k >> 32), (int)(k & 0xFFFFFFFF));
}
