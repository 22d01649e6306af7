using System.Text.Json.Nodes;
using Casebook.Extract.Clinical;
using Casebook.Ingest;
using Casebook.Search;

namespace Casebook.Tests.Extract.Clinical;

/// <summary>Clinical NLP through ingest and search on a real database (MiniLM vectors, FTS5, filters).</summary>
public sealed class ClinicalIngestSearchFixture : IDisposable
{
    public TempDirectory Temp { get; } = new();
    public CasebookDb Db { get; }

    public static readonly (string Id, string Report)[] Reports =
    [
        ("AFFIRMED", "FINDINGS: Small left pneumothorax. Heart size normal.\n\nIMPRESSION: Small left apical pneumothorax."),
        ("NEGATED", "FINDINGS: No pneumothorax. No pleural effusion. Heart size normal.\n\nIMPRESSION: No acute cardiopulmonary abnormality."),
        ("RULEOUT", "INDICATION: Rule out pneumothorax after line placement.\n\nFINDINGS: Lungs are clear. Right IJ catheter tip in the SVC."),
        ("HISTORY", "CLINICAL HISTORY: History of type 2 diabetes and hypertension, former smoker. Mother had breast cancer.\n\nFINDINGS: Right lower lobe consolidation consistent with pneumonia. No effusion."),
    ];

    public ClinicalIngestSearchFixture()
    {
        Db = Temp.OpenDb();
        var inputs = Reports.Select(r => new StudyInput(r.Id, "P-" + r.Id, "local", "CR", "2025-01-02", null, [], "test") { ReportText = r.Report }).ToList();
        var result = Db.Ingest(inputs);
        if (result.Inserted != Reports.Length) throw new InvalidOperationException("ingest failed: " + string.Join("; ", result.Errors));
    }

    public void Dispose() { Db.Dispose(); Temp.Dispose(); }
}

public class ClinicalIngestSearchTests(ClinicalIngestSearchFixture fx) : IClassFixture<ClinicalIngestSearchFixture>
{
    CasebookDb Db => fx.Db;

    static JsonObject Finding(JsonArray list, string term) => list.OfType<JsonObject>().First(o => o["term"]!.GetValue<string>() == term);

    [Theory]
    [InlineData(SearchMode.Bm25)]
    [InlineData(SearchMode.Dense)]
    [InlineData(SearchMode.Hybrid)]
    public void Search_ranks_a_report_that_affirms_a_finding_above_one_that_denies_it(SearchMode mode)
    {
        var ids = Db.Search("pneumothorax").Mode(mode).Limit(10).ToList().Select(h => h.StudyId).ToList();
        Assert.Equal("AFFIRMED", ids[0]);
        if (ids.Contains("NEGATED")) Assert.True(ids.IndexOf("NEGATED") > ids.IndexOf("AFFIRMED"));
    }

    [Fact]
    public void Keyword_matching_skips_negated_mentions_but_snippets_keep_the_words()
    {
        var hits = Db.Search("pneumothorax").Mode(SearchMode.Bm25).Limit(10).ToList();
        Assert.DoesNotContain(hits, h => h.StudyId == "NEGATED");
        Assert.Contains("[pneumothorax]", hits[0].Matches[0].Snippet!, StringComparison.OrdinalIgnoreCase);
        // The original text is stored unchanged.
        Assert.Contains("No pneumothorax.", Db.GetStudy("NEGATED")!.Segments.Select(s => s.Text).First(t => t!.Contains("pneumothorax")));
    }

    [Fact]
    public void Ingest_fills_findings_with_assertion_laterality_codes_and_evidence()
    {
        var s = Db.GetStudy("AFFIRMED")!;
        var ptx = Finding(s.PathologyFindings, "pneumothorax");
        Assert.True(ptx["affirmed"]!.GetValue<bool>());
        Assert.Equal("left", ptx["laterality"]!.GetValue<string>());
        Assert.Equal(["ICD10:J93.9"], ptx["codes"]!.AsArray().Select(c => c!.GetValue<string>()));
        var evidence = ptx["evidence"]!.AsArray().OfType<JsonObject>().First();
        var segment = s.Segments.First(g => g.SegmentId == evidence["segment"]!.GetValue<string>());
        Assert.Equal("pneumothorax", segment.Text![evidence["start"]!.GetValue<int>()..evidence["end"]!.GetValue<int>()]);
        Assert.InRange(ptx["confidence"]!.GetValue<double>(), 0.5, 1.0);
        Assert.Contains("ICD10:J93.9", s.ClinicalCodes);
        Assert.Equal(1f, s.SparseTerms["concept:pneumothorax"]);
        Assert.Equal(1f, s.SparseTerms["icd10:j93.9"]);
        Assert.Contains(s.AnatomicalRegions.OfType<JsonObject>(), o => o["term"]!.GetValue<string>() == "heart");
    }

    [Fact]
    public void Negated_and_ruled_out_findings_are_recorded_but_their_codes_are_unconfirmed()
    {
        var negated = Db.GetStudy("NEGATED")!;
        Assert.True(Finding(negated.PathologyFindings, "pneumothorax")["negated"]!.GetValue<bool>());
        Assert.False(Finding(negated.PathologyFindings, "pneumothorax")["confirmed"]!.GetValue<bool>());
        Assert.DoesNotContain("ICD10:J93.9", negated.ClinicalCodes);
        Assert.DoesNotContain("concept:pneumothorax", negated.SparseTerms.Keys);
        var ruleOut = Db.GetStudy("RULEOUT")!;
        Assert.True(Finding(ruleOut.PathologyFindings, "pneumothorax")["uncertain"]!.GetValue<bool>());
        Assert.DoesNotContain("ICD10:J93.9", ruleOut.ClinicalCodes);
    }

    [Fact]
    public void Risk_factors_history_and_family_members_are_told_apart()
    {
        var s = Db.GetStudy("HISTORY")!;
        Assert.True(Finding(s.RiskFactors, "diabetes")["historical"]!.GetValue<bool>());
        Assert.True(Finding(s.RiskFactors, "diabetes")["affirmed"]!.GetValue<bool>()); // a past risk factor still counts
        Assert.Contains("ICD10:E11.9", s.ClinicalCodes);
        Assert.Contains(s.RiskFactors.OfType<JsonObject>(), o => o["term"]!.GetValue<string>() == "smoking");
        Assert.Equal("other", Finding(s.PathologyFindings, "breast cancer")["experiencer"]!.GetValue<string>());
        Assert.DoesNotContain("ICD10:C50.919", s.ClinicalCodes); // the mother's cancer is not the patient's diagnosis
        Assert.Contains("ICD10:J18.9", s.ClinicalCodes); // pneumonia, affirmed and current
        Assert.Equal("right", Finding(s.AnatomicalRegions, "right lower lobe")["laterality"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("pathology_findings contains 'pneumothorax'", "AFFIRMED")]
    [InlineData("pathology_findings contains 'pneumonia'", "HISTORY")]
    [InlineData("pathology_findings contains 'breast cancer'", "")] // a relative's
    [InlineData("clinical_codes contains 'J93.9'", "AFFIRMED")]
    [InlineData("clinical_codes contains 'J93'", "AFFIRMED")] // ICD-10 hierarchy: the category includes its codes
    [InlineData("clinical_codes contains 'J9'", "")]
    [InlineData("anatomical_regions contains 'right lower lobe'", "HISTORY")]
    public void Filters_match_affirmed_findings_by_default(string filter, string expected)
    {
        var ids = Db.Search("normal heart lungs findings").Mode(SearchMode.Dense).Where(filter).Limit(10).ToList().Select(h => h.StudyId).Order();
        Assert.Equal(expected, string.Join(",", ids));
    }
}
