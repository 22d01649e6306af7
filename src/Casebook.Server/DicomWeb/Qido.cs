using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Ingest.Dicom;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.DicomWeb;

/// <summary>
/// QIDO-RS (PS3.18 §10.6): search for studies, series and instances. Matching is on the stored, de-identified values
/// (pseudonymised PatientID and PatientName, shifted dates, remapped UIDs) — what WADO-RS serves. Matching keys may be
/// given by keyword or by tag (<c>00100020</c>); keys of any level narrow any query (a study matches when one of its
/// instances matches every key). Answers are <c>application/dicom+json</c> arrays, ordered by date then UID.
/// </summary>
static class Qido
{
    public const int MaxResults = 1000;
    static readonly HashSet<string> Controls = ["limit", "offset", "fuzzymatching", "includefield"];

    public static Task<IResult> Studies(HttpContext ctx, DicomWebSource index) => Search(ctx, index, DicomLevel.Study, null, null);
    public static Task<IResult> StudySeries(HttpContext ctx, DicomWebSource index, string study) => Search(ctx, index, DicomLevel.Series, study, null);
    public static Task<IResult> Series(HttpContext ctx, DicomWebSource index) => Search(ctx, index, DicomLevel.Series, null, null);
    public static Task<IResult> StudyInstances(HttpContext ctx, DicomWebSource index, string study) => Search(ctx, index, DicomLevel.Instance, study, null);
    public static Task<IResult> SeriesInstances(HttpContext ctx, DicomWebSource index, string study, string series) => Search(ctx, index, DicomLevel.Instance, study, series);
    public static Task<IResult> Instances(HttpContext ctx, DicomWebSource index) => Search(ctx, index, DicomLevel.Instance, null, null);

    sealed record Key(string Keyword, string VR, string Value);

    static async Task<IResult> Search(HttpContext ctx, DicomWebSource index, DicomLevel level, string? study, string? series)
    {
        var r = ctx.Request;
        DicomWebResponses.RequireJsonAccept(r);
        var keys = new List<Key>();
        string? modalitiesInStudy = null;
        var warnings = new List<string>();
        foreach (var (name, values) in r.Query)
        {
            if (Controls.Contains(name.ToLowerInvariant())) continue;
            if (values.Count > 1) throw new ArgumentException($"matching key '{name}' given {values.Count} times; give it once");
            var value = values[0] ?? "";
            if (value.Length > 1024) throw new ArgumentException($"matching key '{name}' is {value.Length} characters; the limit is 1024");
            var attr = Resolve(name) ?? throw new ArgumentException($"'{name}' is not a DICOM attribute keyword or tag (e.g. PatientID or 00100020)");
            if (attr.Keyword == "ModalitiesInStudy") { modalitiesInStudy = value; continue; }
            var indexed = DicomWebIndex.Attributes.FirstOrDefault(a => a.Tag == attr.Tag);
            if (indexed == null)
            {
                // PS3.18 §8.3.4: a key the server does not support is ignored with a warning (and still returned when asked).
                warnings.Add($"299 casebook \"matching on {attr.Keyword} is not supported; the key was ignored\"");
                continue;
            }
            keys.Add(new Key(indexed.Keyword, indexed.VR, value));
        }
        if (study != null) keys.Add(new Key("StudyInstanceUID", "UI", DicomWebResponses.Uid(study, "study")));
        if (series != null) keys.Add(new Key("SeriesInstanceUID", "UI", DicomWebResponses.Uid(series, "series")));
        var fuzzy = Flag(r, "fuzzymatching");
        var limit = Int(r, "limit", MaxResults, 1, int.MaxValue);
        var offset = Int(r, "offset", 0, 0, int.MaxValue);
        if (limit > MaxResults)
        {
            warnings.Add($"299 casebook \"at most {MaxResults} results are returned per request; use offset for more\"");
            limit = MaxResults;
        }
        var include = IncludeFields(r);

        var all = await index.InstancesAsync(ctx.RequestAborted);
        var matching = all.Where(i => keys.All(k => QidoMatching.Matches(k.VR, k.Value, i.Get(k.Keyword), fuzzy))).ToList();
        if (modalitiesInStudy != null)
        {
            var studies = all.GroupBy(i => i.StudyUid).Where(g => g.Any(i => QidoMatching.Matches("CS", modalitiesInStudy, i.Get("Modality"), fuzzy)))
                .Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            matching = matching.Where(i => studies.Contains(i.StudyUid)).ToList();
        }
        var groups = level switch
        {
            DicomLevel.Study => matching.GroupBy(i => i.StudyUid),
            DicomLevel.Series => matching.GroupBy(i => i.StudyUid + "|" + i.SeriesUid),
            _ => matching.GroupBy(i => i.Blob),
        };
        var ordered = groups.Select(g => g.First())
            .OrderBy(i => i.Get("StudyDate"), StringComparer.Ordinal).ThenBy(i => i.StudyUid, StringComparer.Ordinal)
            .ThenBy(i => level == DicomLevel.Study ? "" : i.SeriesUid, StringComparer.Ordinal)
            .ThenBy(i => level == DicomLevel.Instance ? ParseInt(i.Get("InstanceNumber")) : 0).ThenBy(i => i.SopUid, StringComparer.Ordinal)
            .ToList();
        var total = ordered.Count;
        var page = ordered.Skip(offset).Take(limit).ToList();
        if (offset + page.Count < total && limit == MaxResults && !warnings.Any(w => w.Contains("offset")))
            warnings.Add($"299 casebook \"{total - offset - page.Count} more results; use offset for more\"");
        var baseUrl = DicomWebResponses.BaseUrl(r);
        var answer = new JsonArray();
        foreach (var i in page) answer.Add(await Answer(index, i, level, study != null, series != null, all, include, baseUrl, keys.Select(k => k.Keyword).ToHashSet(), ctx.RequestAborted));
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{page.Count} of {total} {level.ToString().ToLowerInvariant()} results";
        foreach (var w in warnings) ctx.Response.Headers.Append("Warning", w);
        return DicomWebResponses.DicomJson(answer);
    }

    /// <summary>The attributes of one result: its level's (and, for series and instances, the study's UIDs), counts, RetrieveURL, includefield.</summary>
    static async Task<JsonObject> Answer(DicomWebSource index, StoredDicomInstance first, DicomLevel level, bool studyInPath, bool seriesInPath, IReadOnlyList<StoredDicomInstance> all, IncludeSet include, string baseUrl, HashSet<string> matched, CancellationToken ct)
    {
        var o = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        void Put(uint tag, JsonNode node) => o[DicomJsonModel.Tag(tag)] = node;
        foreach (var a in DicomWebIndex.Attributes)
        {
            // PS3.18 §10.6.3.3: a level's own attributes, the UIDs above it, and the attributes of levels not fixed by the path.
            var wanted = a.Level == level || (a.Level < level && a.VR == "UI")
                || (a.Level == DicomLevel.Study && !studyInPath) || (a.Level == DicomLevel.Series && level == DicomLevel.Instance && !seriesInPath)
                || include.All || include.Keywords.Contains(a.Keyword) || matched.Contains(a.Keyword);
            if (a.Level > level && !include.Keywords.Contains(a.Keyword) && !include.All) wanted = false;
            if (!wanted) continue;
            var v = first.Get(a.Keyword);
            Put(a.Tag, DicomJsonModel.Attribute(a.VR, v.Length == 0 ? [] : v.Split('\\')));
        }
        var inStudy = all.Where(i => i.StudyUid == first.StudyUid).ToList();
        switch (level)
        {
            case DicomLevel.Study:
                Put(0x00080061, DicomJsonModel.Attribute("CS", inStudy.Select(i => i.Get("Modality")).Where(m => m.Length > 0).Distinct().Order(StringComparer.Ordinal)));
                Put(0x00201206, DicomJsonModel.Attribute("IS", [inStudy.Select(i => i.SeriesUid).Distinct().Count().ToString(CultureInfo.InvariantCulture)]));
                Put(0x00201208, DicomJsonModel.Attribute("IS", [inStudy.Count.ToString(CultureInfo.InvariantCulture)]));
                Put(0x00081190, DicomJsonModel.Attribute("UR", [$"{baseUrl}/studies/{first.StudyUid}"]));
                break;
            case DicomLevel.Series:
                Put(0x00201209, DicomJsonModel.Attribute("IS", [inStudy.Count(i => i.SeriesUid == first.SeriesUid).ToString(CultureInfo.InvariantCulture)]));
                Put(0x00081190, DicomJsonModel.Attribute("UR", [$"{baseUrl}/studies/{first.StudyUid}/series/{first.SeriesUid}"]));
                break;
            default:
                Put(0x00083002, DicomJsonModel.Attribute("UI", [first.Get(DicomWebIndex.TransferSyntaxKey)]));
                Put(0x00081190, DicomJsonModel.Attribute("UR", [$"{baseUrl}/studies/{first.StudyUid}/series/{first.SeriesUid}/instances/{first.SopUid}"]));
                break;
        }
        // includefield beyond the index: read from a stored instance of the result (its header; no pixel data).
        var extra = include.Tags.Where(t => !o.ContainsKey(DicomJsonModel.Tag(t))).ToList();
        if (extra.Count > 0 || (include.All && level == DicomLevel.Instance))
        {
            var header = await index.HeaderAsync(first, ct);
            if (header != null)
                foreach (var (tag, node) in header)
                    if (!o.ContainsKey(tag) && (include.All && level == DicomLevel.Instance || extra.Contains(Convert.ToUInt32(tag, 16)))) o[tag] = node!.DeepClone();
        }
        var result = new JsonObject();
        foreach (var (k, v) in o) result[k] = v;
        return result;
    }

    sealed record IncludeSet(bool All, HashSet<string> Keywords, List<uint> Tags);

    static IncludeSet IncludeFields(HttpRequest r)
    {
        var all = false;
        var keywords = new HashSet<string>(StringComparer.Ordinal);
        var tags = new List<uint>();
        foreach (var raw in r.Query.Where(q => q.Key.Equals("includefield", StringComparison.OrdinalIgnoreCase)).SelectMany(q => q.Value))
            foreach (var part in (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (part == "all") { all = true; continue; }
                var a = Resolve(part) ?? throw new ArgumentException($"includefield '{part}' is not a DICOM attribute keyword or tag");
                keywords.Add(a.Keyword);
                tags.Add(a.Tag);
            }
        return new IncludeSet(all, keywords, tags);
    }

    /// <summary>A keyword (PatientID) or tag (00100020) as its tag and keyword, via the engine's data dictionary.</summary>
    static (uint Tag, string Keyword)? ResolveTag(string name)
    {
        if (name.Length == 8 && uint.TryParse(name, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var t))
            return (t, DicomDictionary.KeywordOf(new DicomTag(t)) is { Length: > 0 } k ? k : name);
        return DicomDictionary.Lookup(name) is { } e ? (e.Tag, name) : null;
    }

    static (uint Tag, string Keyword)? Resolve(string name) => ResolveTag(name);

    static bool Flag(HttpRequest r, string name)
    {
        var v = Single(r, name);
        return v switch
        {
            null or "false" => false,
            "true" => true,
            _ => throw new ArgumentException($"'{name}' must be true or false, not '{v}'"),
        };
    }

    static int Int(HttpRequest r, string name, int fallback, int min, int max)
    {
        var v = Single(r, name);
        if (v == null) return fallback;
        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw new ArgumentException($"'{name}' must be an integer of at least {min}, not '{v}'");
        return n;
    }

    static string? Single(HttpRequest r, string name)
    {
        var values = r.Query.Where(q => q.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).SelectMany(q => q.Value).ToList();
        if (values.Count > 1) throw new ArgumentException($"'{name}' given {values.Count} times; give it once");
        return values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
    }

    static int ParseInt(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;
}
