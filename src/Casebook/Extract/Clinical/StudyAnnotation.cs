using System.Text;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Extract.Clinical;

/// <summary>
/// Fills a study's clinical fields from the text of its segments (report paragraphs, OCR text, dictation segments,
/// and FHIR notes later, through the same call):
/// <list type="bullet">
/// <item><c>pathology_findings</c>, <c>anatomical_regions</c>, <c>risk_factors</c>: one JSON object per concept and
///   assertion (term, category, codes, negated/uncertain/historical/hypothetical, experiencer, laterality, affirmed,
///   confidence) with every mention as evidence (segment id, start/end offsets in the segment text, text);</item>
/// <item><c>clinical_codes</c>: <c>ICD10:</c> codes of affirmed, current, patient findings and risk factors only (a
///   risk factor may be historical: "history of diabetes" is one). A
///   negated, ruled-out, possible, historical, hypothetical or family member's mention keeps its codes in its object
///   with <c>"confirmed": false</c>, never in <c>clinical_codes</c>;</item>
/// <item><c>sparse_terms</c>: <c>concept:TERM</c> and <c>icd10:CODE</c> keys (weight 1) for the affirmed ones.</item>
/// </list>
/// Codes and list elements already on the study (FHIR-given SNOMED, LOINC, ICD; objects without <c>"source": "text"</c>)
/// are kept; calling it again replaces only what it wrote before.
/// </summary>
public static class StudyAnnotation
{
    /// <summary>Confidence of an exact match of a lexicon form; short abbreviations and hedged mentions get less.</summary>
    const double ExactConfidence = 0.9, AbbreviationConfidence = 0.75, UncertainFactor = 0.6;

    /// <summary>The <c>source</c> of objects this annotation writes (so a second call replaces them, and other producers' objects stay).</summary>
    public const string TextSource = "text";

    public static void Annotate(StudyRecord study, ClinicalAnalyzer? analyzer = null)
    {
        analyzer ??= ClinicalAnalyzer.Default;
        var groups = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var order = new List<(string Category, JsonObject Node)>();
        foreach (var segment in study.Segments)
        {
            if (string.IsNullOrWhiteSpace(segment.Text) || segment.Kind == SegmentKind.ImageSlice) continue;
            foreach (var m in analyzer.Analyze(segment.Text).Concepts)
            {
                var a = m.Assertion;
                // A risk factor the patient has had ("history of diabetes", "former smoker") still is one; a finding must be current.
                bool affirmed = a.IsAffirmedCurrentPatient || (m.Category == ConceptCategory.RiskFactor && !a.Negated && !a.Uncertain && !a.Hypothetical && !a.OtherExperiencer);
                var key = $"{m.Category}|{m.Term}|{a.Negated}|{a.Uncertain}|{a.Historical}|{a.Hypothetical}|{a.Experiencer}|{m.Laterality}";
                if (!groups.TryGetValue(key, out var node))
                {
                    var confidence = (m.Text.Length <= 4 && !m.Text.Contains(' ') ? AbbreviationConfidence : ExactConfidence) * (a.Uncertain ? UncertainFactor : 1);
                    node = new JsonObject
                    {
                        ["term"] = m.Term,
                        ["category"] = m.Category,
                        ["codes"] = new JsonArray(m.Codes.Select(c => (JsonNode)JsonValue.Create(ClinicalCodes.Icd10Prefix + c)).ToArray()),
                        ["negated"] = a.Negated, ["uncertain"] = a.Uncertain, ["historical"] = a.Historical, ["hypothetical"] = a.Hypothetical,
                        ["experiencer"] = a.Experiencer,
                        ["laterality"] = m.Laterality,
                        ["affirmed"] = affirmed,
                        ["confirmed"] = affirmed && m.Codes.Count > 0,
                        ["confidence"] = Math.Round(confidence, 2),
                        ["evidence"] = new JsonArray(),
                        ["source"] = TextSource,
                    };
                    if (m.Concept.Snomed != null) node["snomed"] = m.Concept.Snomed;
                    groups[key] = node;
                    order.Add((m.Category, node));
                }
                node["evidence"]!.AsArray().Add(new JsonObject { ["segment"] = segment.SegmentId, ["start"] = m.Start, ["end"] = m.End, ["text"] = m.Text });
            }
        }
        // Elements from elsewhere (FHIR Conditions, manifest columns) are kept; earlier text-derived ones are replaced.
        JsonArray Merge(JsonArray existing, string category) => new(existing
            .Where(e => !(e is JsonObject o && o["source"]?.GetValue<string>() == TextSource)).Select(e => e?.DeepClone())
            .Concat(order.Where(o => o.Category == category).Select(o => (JsonNode?)o.Node)).ToArray());
        study.PathologyFindings = Merge(study.PathologyFindings, ConceptCategory.Finding);
        study.AnatomicalRegions = Merge(study.AnatomicalRegions, ConceptCategory.Anatomy);
        study.RiskFactors = Merge(study.RiskFactors, ConceptCategory.RiskFactor);
        foreach (var (category, node) in order)
        {
            if (category == ConceptCategory.Anatomy || node["affirmed"]!.GetValue<bool>() == false) continue;
            study.SparseTerms["concept:" + node["term"]!.GetValue<string>()] = 1f;
            foreach (var code in node["codes"]!.AsArray().Select(c => c!.GetValue<string>()))
            {
                if (!study.ClinicalCodes.Contains(code)) study.ClinicalCodes.Add(code);
                study.SparseTerms["icd10:" + code[ClinicalCodes.Icd10Prefix.Length..].ToLowerInvariant()] = 1f;
            }
        }
    }

    /// <summary>Prefix of the marked tokens that replace negated mentions in the keyword-matching text.</summary>
    public const string NegatedMarker = "xneg";

    /// <summary>
    /// The study's text for document-level keyword matching (<c>studies_fts</c>): its segments' text, with every word of a
    /// negated concept mention replaced by a marked token ("No pneumothorax." → "No xnegpneumothorax."), so a search for
    /// a finding does not match reports that deny it. Snippets come from the segment text, which keeps the original words.
    /// </summary>
    public static string MatchText(StudyRecord study)
    {
        var negated = new Dictionary<string, List<(int Start, int End)>>(StringComparer.Ordinal);
        foreach (var node in study.PathologyFindings.Concat(study.RiskFactors))
        {
            if (node is not JsonObject o || o["negated"]?.GetValue<bool>() != true || o["evidence"] is not JsonArray evidence) continue;
            foreach (var e in evidence.OfType<JsonObject>())
            {
                var segment = e["segment"]?.GetValue<string>();
                if (segment == null || e["start"] is null || e["end"] is null) continue;
                if (!negated.TryGetValue(segment, out var spans)) negated[segment] = spans = new();
                spans.Add((e["start"]!.GetValue<int>(), e["end"]!.GetValue<int>()));
            }
        }
        var sb = new StringBuilder();
        bool first = true;
        foreach (var g in study.Segments)
        {
            if (g.Text == null) continue;
            if (!first) sb.Append("\n\n");
            first = false;
            if (!negated.TryGetValue(g.SegmentId, out var spans)) { sb.Append(g.Text); continue; }
            var text = g.Text;
            int at = 0;
            foreach (var (start, end) in spans.OrderBy(s => s.Start))
            {
                if (start < at || end > text.Length || start >= end) continue;
                sb.Append(text, at, start - at);
                bool inWord = false;
                for (int i = start; i < end; i++)
                {
                    bool letter = char.IsLetterOrDigit(text[i]);
                    if (letter && !inWord) sb.Append(NegatedMarker);
                    sb.Append(text[i]);
                    inWord = letter;
                }
                at = end;
            }
            sb.Append(text, at, text.Length - at);
        }
        return sb.ToString();
    }
}
