using Sylvan.Data.Csv;

namespace Casebook.Eval;

/// <summary>
/// A clinical IR test collection built from the IU X-ray reports (../shared/data/text/iu-xray): every MeSH
/// problem term used by at least <c>minReports</c> reports is a query (its own words), and the reports
/// carrying that term are relevant (grade 1). "No Indexing" is skipped: it marks missing annotation, not a problem.
/// </summary>
public static class IuXrayCollection
{
    public sealed record Collection(List<(string Id, string Text)> Docs, List<(string Id, string Text)> Queries, Dictionary<string, Dictionary<string, int>> Qrels);

    public static Collection Load(string reportsCsv, int minReports = 20)
    {
        var docs = new List<(string, string)>();
        var byTerm = new Dictionary<string, HashSet<string>>();
        using var csv = CsvDataReader.Create(reportsCsv);
        int uid = csv.GetOrdinal("uid"), problems = csv.GetOrdinal("Problems");
        string[] parts = ["indication", "comparison", "findings", "impression"];
        var partCols = parts.Select(csv.GetOrdinal).ToArray();
        while (csv.Read())
        {
            var id = "IU-" + csv.GetString(uid);
            var text = string.Join("\n\n", parts.Select((p, i) => (p, v: csv.GetString(partCols[i]).Trim()))
                                               .Where(x => x.v.Length > 0).Select(x => $"{x.p.ToUpperInvariant()}: {x.v}"));
            if (text.Length == 0) continue;
            docs.Add((id, text));
            foreach (var term in csv.GetString(problems).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct())
            {
                if (term == "No Indexing") continue;
                if (!byTerm.TryGetValue(term, out var set)) byTerm[term] = set = new();
                set.Add(id);
            }
        }
        var queries = new List<(string, string)>();
        var qrels = new Dictionary<string, Dictionary<string, int>>();
        foreach (var (term, ids) in byTerm.Where(kv => kv.Value.Count >= minReports).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var qid = "MESH-" + term.Replace(' ', '_');
            queries.Add((qid, term.Replace(",", "")));
            qrels[qid] = ids.ToDictionary(d => d, _ => 1);
        }
        return new Collection(docs, queries, qrels);
    }
}
