using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Casebook.Cohorts;

/// <summary>A cohort definition that does not parse or names a field wrongly; the message starts with the field's path.</summary>
public sealed class CohortDefinitionException(string field, string reason)
    : ArgumentException($"cohort definition: {field}: {reason}")
{
    public string Field { get; } = field;
}

/// <summary>One criterion of a cohort (docs/cohorts.md). Each selects a set of patients.</summary>
public abstract record CohortCriterion
{
    /// <summary>Criteria that also restrict which of a matching patient's studies are listed (modality, exam date, findings…).</summary>
    public virtual bool IsStudyLevel => false;
}

public sealed record AllOf(IReadOnlyList<CohortCriterion> Items) : CohortCriterion;
public sealed record AnyOf(IReadOnlyList<CohortCriterion> Items) : CohortCriterion;
public sealed record NotOf(CohortCriterion Item) : CohortCriterion;

/// <summary>A diagnosis code (ICD-10-CM by prefix hierarchy; SNOMED/LOINC/other exact) on a study or a condition event.</summary>
public sealed record CodeCriterion(string System, string Code, IReadOnlyList<string> Statuses, string? From, string? To) : CohortCriterion;

/// <summary>An affirmed finding (pathology_findings term) on one of the patient's studies.</summary>
public sealed record FindingCriterion(string Term) : CohortCriterion { public override bool IsStudyLevel => true; }

/// <summary>At least <see cref="Count"/> results of a LOINC lab meeting a threshold (compared in UCUM canonical units), within <see cref="WithinDays"/> of each other.</summary>
public sealed record LabCriterion(IReadOnlyList<string> Codes, string Comparator, double Value, string Unit, double CanonicalValue, string CanonicalUnit,
    int Count, int? WithinDays, string? From, string? To) : CohortCriterion;

/// <summary>Any event of a type (optionally a code) in a date range.</summary>
public sealed record EventCriterion(string Type, string? System, string? Code, string? From, string? To) : CohortCriterion;

public sealed record SexCriterion(IReadOnlyList<string> Values) : CohortCriterion { public override bool IsStudyLevel => true; }
/// <summary>Age band at the study (5-year bands as de-identified at ingest, 90+); matches bands inside [Min, Max].</summary>
public sealed record AgeCriterion(int Min, int Max, IReadOnlyList<string> Bands) : CohortCriterion { public override bool IsStudyLevel => true; }
public sealed record ModalityCriterion(IReadOnlyList<string> Values) : CohortCriterion { public override bool IsStudyLevel => true; }
public sealed record ExamDateCriterion(string? From, string? To) : CohortCriterion { public override bool IsStudyLevel => true; }
/// <summary>A study with (or, false, without) a clinician-validated finding (<c>"validated": true</c> on a pathology_findings object).</summary>
public sealed record ValidatedCriterion(bool Value) : CohortCriterion { public override bool IsStudyLevel => true; }

/// <summary>
/// A parsed, validated cohort definition. JSON: <c>{"name"?, "description"?, "as_of"?, "criteria": CRITERION}</c>;
/// parsing is strict (unknown keys, wrong types, unknown codes systems and unconvertible units are errors naming the field),
/// so a saved definition means what it says.
/// </summary>
public sealed class CohortDefinition
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public long? AsOf { get; init; }
    public required CohortCriterion Criteria { get; init; }
    /// <summary>The definition's JSON text as given (what is saved).</summary>
    public required string Json { get; init; }

    public static readonly IReadOnlyList<string> Systems = ["icd10cm", "snomed", "loinc", "any"];
    public static readonly IReadOnlyList<string> Comparators = [">=", ">", "<=", "<", "="];
    static readonly Regex CodePattern = new("^[A-Za-z0-9][A-Za-z0-9.\\-]{0,39}$", RegexOptions.CultureInvariant);
    static readonly Regex DatePattern = new("^\\d{4}-\\d{2}-\\d{2}$", RegexOptions.CultureInvariant);
    const int MaxDepth = 32;
    const int MaxCriteria = 500;

    public static CohortDefinition Parse(string json)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 128 }); }
        catch (JsonException e) { throw new CohortDefinitionException("(json)", "not valid JSON: " + e.Message); }
        if (root is not JsonObject o) throw new CohortDefinitionException("(root)", "must be a JSON object with a \"criteria\" field");
        Keys(o, "(root)", "name", "description", "as_of", "criteria");
        var count = 0;
        var criteria = o["criteria"] ?? throw new CohortDefinitionException("criteria", "missing (the criterion tree: all/any/not, code, finding, lab, …)");
        return new CohortDefinition
        {
            Name = OptString(o, "name", "name"),
            Description = OptString(o, "description", "description"),
            AsOf = o["as_of"] is { } v ? Int(v, "as_of", 0, long.MaxValue) : null,
            Criteria = Criterion(criteria, "criteria", 0, ref count),
            Json = o.ToJsonString(),
        };
    }

    static CohortCriterion Criterion(JsonNode node, string path, int depth, ref int count)
    {
        if (depth > MaxDepth) throw new CohortDefinitionException(path, $"nested deeper than {MaxDepth} levels");
        if (++count > MaxCriteria) throw new CohortDefinitionException(path, $"more than {MaxCriteria} criteria");
        if (node is not JsonObject o || o.Count != 1)
            throw new CohortDefinitionException(path, "a criterion is an object with exactly one key: all, any, not, code, finding, lab, event, sex, age, modality, exam_date, validated");
        var (key, value) = o.First();
        var p = path + "." + key;
        if (value is null) throw new CohortDefinitionException(p, "is null");
        switch (key)
        {
            case "all":
            case "any":
            {
                if (value is not JsonArray arr || arr.Count == 0) throw new CohortDefinitionException(p, "must be a non-empty array of criteria");
                var items = new List<CohortCriterion>();
                for (var i = 0; i < arr.Count; i++)
                    items.Add(Criterion(arr[i] ?? throw new CohortDefinitionException($"{p}[{i}]", "is null"), $"{p}[{i}]", depth + 1, ref count));
                return key == "all" ? new AllOf(items) : new AnyOf(items);
            }
            case "not": return new NotOf(Criterion(value, p, depth + 1, ref count));
            case "code":
            {
                var c = Obj(value, p);
                Keys(c, p, "system", "code", "statuses", "from", "to");
                var system = OptString(c, "system", p + ".system")?.ToLowerInvariant() ?? "icd10cm";
                if (!Systems.Contains(system)) throw new CohortDefinitionException(p + ".system", $"'{system}' is not one of {string.Join(", ", Systems)}");
                var code = Code(c, p + ".code");
                var statuses = new List<string> { "confirmed" };
                if (c["statuses"] is JsonArray st)
                {
                    statuses = st.Select((s, i) => s is JsonValue jv && jv.TryGetValue<string>(out var t) ? t.ToLowerInvariant() : throw new CohortDefinitionException($"{p}.statuses[{i}]", "must be a string")).ToList();
                    foreach (var s in statuses)
                        if (s is "refuted" or "entered-in-error") throw new CohortDefinitionException(p + ".statuses", $"'{s}' conditions never count toward a cohort");
                    if (statuses.Count == 0) throw new CohortDefinitionException(p + ".statuses", "must name at least one status (e.g. confirmed, provisional)");
                }
                else if (c["statuses"] != null) throw new CohortDefinitionException(p + ".statuses", "must be an array of strings");
                var (from, to) = Range(c, p);
                return new CodeCriterion(system, code, statuses, from, to);
            }
            case "finding":
            {
                if (value is JsonValue)
                {
                    var t = Str(value, p).Trim();
                    return t.Length > 0 ? new FindingCriterion(t.ToLowerInvariant()) : throw new CohortDefinitionException(p, "is empty");
                }
                var c = Obj(value, p);
                Keys(c, p, "term");
                var term = Str(c["term"] ?? throw new CohortDefinitionException(p + ".term", "missing"), p + ".term").Trim();
                if (term.Length == 0) throw new CohortDefinitionException(p + ".term", "is empty");
                return new FindingCriterion(term.ToLowerInvariant());
            }
            case "lab":
            {
                var c = Obj(value, p);
                Keys(c, p, "code", "comparator", "value", "unit", "count", "within_days", "from", "to");
                // One LOINC code, or several that measure the same analyte (HbA1c NGSP 4548-4 and IFCC 59261-8).
                List<string> codes = c["code"] is JsonArray ca
                    ? ca.Select((x, i) => x is JsonValue ? CodeText(Str(x, $"{p}.code[{i}]"), $"{p}.code[{i}]") : throw new CohortDefinitionException($"{p}.code[{i}]", "must be a string")).ToList()
                    : [Code(c, p + ".code")];
                if (codes.Count == 0) throw new CohortDefinitionException(p + ".code", "is an empty list");
                var code = codes[0];
                var cmp = Str(c["comparator"] ?? throw new CohortDefinitionException(p + ".comparator", "missing (one of >=, >, <=, <, =)"), p + ".comparator");
                if (!Comparators.Contains(cmp)) throw new CohortDefinitionException(p + ".comparator", $"'{cmp}' is not one of {string.Join(", ", Comparators)}");
                var v = c["value"] is JsonValue jv && jv.TryGetValue<double>(out var d) && double.IsFinite(d) ? d
                    : throw new CohortDefinitionException(p + ".value", "missing or not a number");
                var unit = Str(c["unit"] ?? throw new CohortDefinitionException(p + ".unit", "missing (a UCUM unit such as %, mmol/mol, mg/dL)"), p + ".unit").Trim();
                var canonical = Casebook.Ingest.Fhir.LabUnits.Canonical(v, unit, code)
                    ?? throw new CohortDefinitionException(p + ".unit", $"'{unit}' is not a UCUM unit Casebook can convert");
                var n = c["count"] is { } cn ? (int)Int(cn, p + ".count", 1, 1000) : 1;
                int? within = c["within_days"] is { } w ? (int)Int(w, p + ".within_days", 0, 36500) : null;
                var (from, to) = Range(c, p);
                return new LabCriterion(codes, cmp, v, unit, canonical.Value, canonical.Unit, n, within, from, to);
            }
            case "event":
            {
                var c = Obj(value, p);
                Keys(c, p, "type", "system", "code", "from", "to");
                var type = Str(c["type"] ?? throw new CohortDefinitionException(p + ".type", "missing"), p + ".type").ToLowerInvariant();
                if (!Timeline.EventType.All.Contains(type)) throw new CohortDefinitionException(p + ".type", $"'{type}' is not one of {string.Join(", ", Timeline.EventType.All)}");
                var system = OptString(c, "system", p + ".system")?.ToLowerInvariant() ?? "any";
                if (!Systems.Contains(system)) throw new CohortDefinitionException(p + ".system", $"'{system}' is not one of {string.Join(", ", Systems)}");
                var code = c["code"] != null ? Code(c, p + ".code") : null;
                var (from, to) = Range(c, p);
                return new EventCriterion(type, system, code, from, to);
            }
            case "sex":
            {
                var values = Strings(value, p).Select(s => s.ToUpperInvariant() switch
                {
                    "M" or "MALE" => "M", "F" or "FEMALE" => "F", "O" or "OTHER" => "O", "U" or "UNKNOWN" => "U",
                    _ => throw new CohortDefinitionException(p, $"'{s}' is not a sex (M, F, O, U)"),
                }).Distinct().ToList();
                return new SexCriterion(values);
            }
            case "age":
            {
                var c = Obj(value, p);
                Keys(c, p, "min", "max");
                var min = c["min"] is { } mn ? (int)Int(mn, p + ".min", 0, 150) : 0;
                var max = c["max"] is { } mx ? (int)Int(mx, p + ".max", 0, 150) : 150;
                if (min > max) throw new CohortDefinitionException(p, $"min {min} is above max {max}");
                // Ages are stored as 5-year bands: a band counts when it lies wholly inside [min, max] (bands are never split).
                var bands = new List<string>();
                for (var low = 0; low < 90; low += 5) if (low >= min && low + 4 <= max) bands.Add($"{low}-{low + 4}");
                if (min <= 90 && max >= 150) bands.Add("90+");
                if (bands.Count == 0) throw new CohortDefinitionException(p, $"no 5-year age band (0-4 … 85-89, 90+) lies within {min}..{max}; ages are stored as bands");
                return new AgeCriterion(min, max, bands);
            }
            case "modality":
                return new ModalityCriterion(Strings(value, p).Select(s => s.Trim().ToUpperInvariant()).Distinct().ToList());
            case "exam_date":
            {
                var c = Obj(value, p);
                Keys(c, p, "from", "to");
                var (from, to) = Range(c, p);
                if (from == null && to == null) throw new CohortDefinitionException(p, "needs from and/or to (yyyy-MM-dd)");
                return new ExamDateCriterion(from, to);
            }
            case "validated":
                return new ValidatedCriterion(value is JsonValue b && b.TryGetValue<bool>(out var flag) ? flag : throw new CohortDefinitionException(p, "must be true or false"));
            default:
                throw new CohortDefinitionException(p, "unknown criterion (all, any, not, code, finding, lab, event, sex, age, modality, exam_date, validated)");
        }
    }

    static JsonObject Obj(JsonNode n, string path) => n as JsonObject ?? throw new CohortDefinitionException(path, "must be an object");

    static void Keys(JsonObject o, string path, params string[] allowed)
    {
        foreach (var k in o.Select(kv => kv.Key))
            if (!allowed.Contains(k)) throw new CohortDefinitionException(path == "(root)" ? k : path + "." + k, $"unknown field (allowed: {string.Join(", ", allowed)})");
    }

    static string Str(JsonNode n, string path) =>
        n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new CohortDefinitionException(path, "must be a string");

    static string? OptString(JsonObject o, string key, string path) => o[key] is { } n ? Str(n, path) : null;

    static List<string> Strings(JsonNode n, string path)
    {
        var list = n is JsonArray a
            ? a.Select((x, i) => x is null ? throw new CohortDefinitionException($"{path}[{i}]", "is null") : Str(x, $"{path}[{i}]")).ToList()
            : [Str(n, path)];
        if (list.Count == 0 || list.Any(string.IsNullOrWhiteSpace)) throw new CohortDefinitionException(path, "must be a non-empty string or array of non-empty strings");
        return list;
    }

    static long Int(JsonNode n, string path, long min, long max)
    {
        if (n is JsonValue v && v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d >= min && d <= max) return (long)d;
        throw new CohortDefinitionException(path, $"must be a whole number {min}..{(max == long.MaxValue ? "" : max.ToString(CultureInfo.InvariantCulture))}");
    }

    static string Code(JsonObject c, string path)
    {
        var code = Str(c[path[(path.LastIndexOf('.') + 1)..]] ?? throw new CohortDefinitionException(path, "missing"), path);
        return CodeText(code, path);
    }

    static string CodeText(string code, string path)
    {
        code = code.Trim();
        if (!CodePattern.IsMatch(code)) throw new CohortDefinitionException(path, $"'{code}' is not a code (letters, digits, '.', '-'; at most 40)");
        return code;
    }

    static (string? From, string? To) Range(JsonObject c, string path)
    {
        string? Date(string key)
        {
            if (c[key] is not { } n) return null;
            var s = Str(n, path + "." + key);
            if (!DatePattern.IsMatch(s) || !DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                throw new CohortDefinitionException(path + "." + key, $"'{s}' is not a date yyyy-MM-dd");
            return s;
        }
        var (from, to) = (Date("from"), Date("to"));
        if (from != null && to != null && string.CompareOrdinal(from, to) > 0) throw new CohortDefinitionException(path, $"from {from} is after to {to}");
        return (from, to);
    }
}
