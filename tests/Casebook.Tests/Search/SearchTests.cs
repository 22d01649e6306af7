using Casebook.Search;
using Casebook.Search.Filtering;

namespace Casebook.Tests.Search;

[Collection("demo corpus")]
public class SearchTests(DemoCorpusFixture demo)
{
    CasebookDb Db => demo.Db;

    [Fact]
    public void Demo_prints_example_searches_that_hit_the_right_studies()
    {
        Assert.Matches(@"\b1[46] studies", demo.DemoStdout); // 14 synthetic studies (one a scanned PDF, one a dictation), + 2 pydicom DICOM samples when python3-pydicom is installed
        Assert.Contains("DEMO-US-0013", demo.DemoStdout); // the scanned report, found through its OCR text
        Assert.Contains("DEMO-CR-0014", demo.DemoStdout); // the dictation, found through its transcript
        Assert.Contains("DEMO-CR-0001", demo.DemoStdout);
        Assert.Contains("synthetic", demo.DemoStdout);
    }

    [Fact]
    public void Keyword_search_finds_the_report_holding_the_word()
    {
        var hits = Db.Search("thoracentesis").Mode(SearchMode.Bm25).Limit(5).ToList();
        Assert.Equal(["DEMO-CR-0001", "DEMO-CR-0002"], hits.Select(h => h.StudyId).Order());
        Assert.Contains("[thoracentesis]", hits.SelectMany(h => h.Matches).First().Snippet!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Dense_search_finds_a_paraphrase_with_no_shared_words()
    {
        // "bleeding" / "skull" appear nowhere in the corpus: only the meaning links them to the subarachnoid hemorrhage report.
        Assert.Empty(Db.Search("bleeding inside the skull").Mode(SearchMode.Bm25).Expansion(false).ToList());
        var hits = Db.Search("bleeding inside the skull").Mode(SearchMode.Dense).Limit(3).ToList();
        Assert.Equal("DEMO-CT-0007", hits[0].StudyId);
    }

    [Fact]
    public void Hybrid_is_the_default_and_answers_studies_with_their_best_segments()
    {
        var hits = Db.Search("bucket-handle meniscus tear").Limit(3).ToList();
        Assert.Equal("DEMO-MR-0008", hits[0].StudyId);
        Assert.All(hits[0].Matches, m => Assert.StartsWith("DEMO-MR-0008/", m.SegmentId));
        Assert.Equal(64, hits[0].PatientPseudoId.Length);
        Assert.Equal("MR", hits[0].Modality);
        Assert.InRange(DateOnly.Parse(hits[0].ExamDate!), new DateOnly(2023, 6, 8), new DateOnly(2024, 6, 6)); // 2024-06-07, shifted
    }

    [Fact]
    public void Abbreviations_are_expanded_for_keyword_search()
    {
        var hits = Db.Search("CHF").Mode(SearchMode.Bm25).Limit(3).ToList();
        Assert.Contains(hits, h => h.StudyId == "DEMO-CR-0012"); // "congestive heart failure"
    }

    [Fact]
    public void Filters_apply_before_ranking_so_every_match_is_returned()
    {
        // "pleural effusion" ranks CR studies first; only 3 CT studies exist and all must come back.
        var ct = Db.Search("pleural effusion").Where("modality = 'CT'").Limit(10).ToList();
        Assert.Equal(["DEMO-CT-0006", "DEMO-CT-0007", "DEMO-CT-0011"], ct.Select(h => h.StudyId).Order());
        var women80 = Db.Search("fracture").Where("sex = 'F' AND age_band = '80-84'").Limit(10).ToList();
        Assert.Equal(["DEMO-DX-0010"], women80.Select(h => h.StudyId));
        // Exam dates are shifted per patient, so the cut-off is the median date of the unfiltered hits.
        var all = Db.Search("lung").Where("modality IN ('CT', 'CR')").Mode(SearchMode.Bm25).Limit(50).ToList();
        var cutoff = all.Select(h => h.ExamDate!).Order(StringComparer.Ordinal).ElementAt(all.Count / 2);
        var dated = Db.Search("lung").Where($"exam_date >= DATE '{cutoff}' AND modality IN ('CT', 'CR')").Mode(SearchMode.Bm25).Limit(50).ToList();
        Assert.NotEmpty(dated);
        Assert.Equal(all.Where(h => string.CompareOrdinal(h.ExamDate, cutoff) >= 0).Select(h => h.StudyId).Order(), dated.Select(h => h.StudyId).Order());
    }

    [Theory]
    [InlineData("modality = 'CR'; DROP TABLE studies; --")]
    [InlineData("' OR 1=1 --")]
    [InlineData("modalty = 'CR'")]
    [InlineData("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((modality = 'CR'")]
    public void Hostile_filter_text_is_rejected_with_a_clear_error_and_harms_nothing(string filter)
    {
        var before = Db.CountStudies();
        var e = Assert.Throws<FilterSyntaxException>(() => Db.Search("effusion").Where(filter).ToList());
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.Equal(before, Db.CountStudies());
    }

    [Fact]
    public void Image_search_finds_the_study_of_the_same_image_first()
    {
        var png = File.ReadAllBytes(Path.Combine(demo.CorpusDir, "images", "us-0009.png"));
        var hits = Db.SearchImage(png).Limit(3).ToList();
        Assert.Equal("DEMO-US-0009", hits[0].StudyId);
        Assert.Equal("image_slice", hits[0].Matches[0].Kind);
    }

    [Fact]
    public void Exact_and_approximate_search_agree_on_a_small_database()
    {
        var approx = Db.Search("gallstones").Mode(SearchMode.Dense).Limit(5).ToList().Select(h => h.StudyId);
        var exact = Db.Search("gallstones").Mode(SearchMode.Dense).Exact().Limit(5).ToList().Select(h => h.StudyId);
        Assert.Equal(exact, approx);
    }

    [Fact]
    public void Limit_counts_studies_and_took_ms_is_reported()
    {
        var r = Db.Search("chest").Limit(4).Execute();
        Assert.Equal(4, r.Results.Count);
        Assert.Equal(r.Results.Select(h => h.StudyId).Distinct().Count(), r.Results.Count);
        Assert.True(r.TookMs > 0);
    }
}
