using Casebook.Search.Filtering;
using Xunit;

namespace Casebook.Tests.Filtering;

/// <summary>Random filters built from the language's own pieces: each either compiles and runs in SQLite, or is a
/// <see cref="FilterSyntaxException"/> — never another exception, never an SQL error.</summary>
public class FilterFuzzTests
{
    static readonly string[] Pieces =
    [
        "modality", "exam_date", "clinical_codes", "kind", "metadata.age", "sex", "body_part", "pathology_findings", "bogus",
        "=", "!=", "<", ">=", "IN", "NOT", "AND", "OR", "CONTAINS", "IS", "NULL", "DATE", "(", ")", ",",
        "'CT'", "'2024-01-01'", "'x''y'", "42", "-1.5", "'", ";", "--", "\"", "*", "metadata.", "é",
    ];

    [Fact]
    public void Random_filters_compile_or_fail_with_a_positioned_syntax_error()
    {
        using var db = new FilterTestDb();
        var rng = new Random(20261125);
        int compiled = 0;
        for (int i = 0; i < 5000; i++)
        {
            // Half grammatical filters, half of those with one piece swapped for a random one.
            var words = Generate(rng, 0);
            if (rng.Next(2) == 0) words[rng.Next(words.Count)] = Pieces[rng.Next(Pieces.Length)];
            var text = string.Join(" ", words);
            try
            {
                db.Run(text);
                compiled++;
            }
            catch (FilterSyntaxException ex)
            {
                Assert.InRange(ex.Position, 0, text.Length);
                Assert.EndsWith($" at {ex.Position}", ex.Message);
            }
        }
        Assert.True(compiled > 1500, $"only {compiled} random filters compiled");
    }

    static readonly string[] Predicates =
    [
        "modality = 'CT'", "modality IN ('CT', 'MR')", "exam_date >= DATE '2024-01-01'", "exam_date < '2025-01-01'",
        "clinical_codes contains 'J90'", "pathology_findings NOT CONTAINS 'effusion'", "kind = 'image_slice'",
        "metadata.age > 40", "sex IS NOT NULL", "risk_factors IS NULL", "report_text contains 'x''y'", "study_id != 'S1'",
    ];

    static List<string> Generate(Random rng, int depth)
    {
        var pick = depth > 4 ? 0 : rng.Next(5);
        var words = new List<string>();
        switch (pick)
        {
            case 0: case 1: words.AddRange(Predicates[rng.Next(Predicates.Length)].Split(' ')); break;
            case 2: words.Add("NOT"); words.AddRange(Generate(rng, depth + 1)); break;
            case 3: words.Add("("); words.AddRange(Generate(rng, depth + 1)); words.Add(")"); break;
            default:
                words.AddRange(Generate(rng, depth + 1));
                words.Add(rng.Next(2) == 0 ? "AND" : "OR");
                words.AddRange(Generate(rng, depth + 1));
                break;
        }
        return words;
    }
}
