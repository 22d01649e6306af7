using Casebook.Extract.Clinical;

namespace Casebook.Tests.Extract.Clinical;

public class ConceptLexiconTests
{
    static List<ConceptMention> Concepts(string text) => ClinicalAnalyzer.Default.Analyze(text).Concepts.ToList();

    [Fact]
    public void Lexicon_holds_hundreds_of_concepts_in_every_category()
    {
        var lexicon = ConceptLexicon.Default;
        Assert.True(lexicon.Concepts.Count >= 250, $"{lexicon.Concepts.Count} concepts");
        Assert.True(lexicon.Concepts.Count(c => c.Category == ConceptCategory.Finding) >= 180);
        Assert.True(lexicon.Concepts.Count(c => c.Category == ConceptCategory.Anatomy) >= 40);
        Assert.True(lexicon.Concepts.Count(c => c.Category == ConceptCategory.RiskFactor) >= 10);
        Assert.True(ContextLexicon.Default.PhraseCount >= 400, $"{ContextLexicon.Default.PhraseCount} ConText phrases");
    }

    [Fact]
    public void Every_lexicon_code_is_valid_icd10cm_under_a_category_of_the_cms_table()
    {
        var categories = File.ReadLines(SharedData.Require("codes/icd10cm/categories.csv")).Select(l => l.Split(',')[0]).ToHashSet();
        // U07 (COVID-19) was created in 2020, after the 2018 release in shared data.
        var bad = ConceptLexicon.Default.Concepts.SelectMany(c => c.Codes.Select(code => (c.Term, code)))
            .Where(x => ClinicalCodes.Normalise(x.code) is not { } n || (!categories.Contains(n[..3]) && n[..3] != "U07")).ToList();
        Assert.Empty(bad);
    }

    [Theory]
    [InlineData("Pt c/o SOB.", "dyspnea")]
    [InlineData("History of CHF and COPD.", "heart failure")]
    [InlineData("h/o MI", "myocardial infarction")]
    [InlineData("Known T2DM, HTN.", "diabetes")]
    [InlineData("Known T2DM, HTN.", "hypertension")]
    [InlineData("New onset afib.", "atrial fibrillation")]
    [InlineData("Left leg DVT.", "deep vein thrombosis")]
    [InlineData("CTA positive for PE.", "pulmonary embolism")]
    [InlineData("Old CVA.", "stroke")]
    [InlineData("Recurrent UTIs.", "urinary tract infection")]
    [InlineData("Bilateral pleural effusions.", "pleural effusion")]
    [InlineData("Enlarged cardiac silhouette.", "cardiomegaly")]
    [InlineData("Former smoker, 20 pack years.", "smoking")]
    public void Abbreviations_synonyms_and_plurals_map_to_the_concept(string text, string term) =>
        Assert.Contains(Concepts(text), c => c.Term == term);

    [Fact]
    public void Short_abbreviations_must_be_capitals_and_a_heading_is_not_a_finding()
    {
        Assert.DoesNotContain(Concepts("We will pe the patient."), c => c.Term == "pulmonary embolism");
        Assert.DoesNotContain(Concepts("PE: lungs clear, heart regular."), c => c.Term == "pulmonary embolism");
        Assert.Contains(Concepts("Concern for PE."), c => c.Term == "pulmonary embolism");
    }

    [Fact]
    public void Longest_match_wins_and_codes_come_with_the_concept()
    {
        var c = Concepts("Small left pleural effusion and right lower lobe pneumonia.");
        Assert.Equal(["pleural effusion", "right lower lobe", "pneumonia"], c.Select(x => x.Term).Where(t => t != "pleura"));
        Assert.Equal(["J90"], c.First(x => x.Term == "pleural effusion").Codes);
        Assert.Equal("finding", c.First(x => x.Term == "pneumonia").Category);
        Assert.Equal("anatomy", c.First(x => x.Term == "right lower lobe").Category);
    }

    [Fact]
    public void Abbreviation_table_is_shared_with_search_expansion()
    {
        Assert.Contains("shortness of breath", ClinicalAbbreviations.Default.Expand("SOB"));
        Assert.Contains("status post", ClinicalAbbreviations.Default.Expand("s/p"));
        Assert.Contains("congestive heart failure", ClinicalAbbreviations.Default.Expand("chf"));
        Assert.Empty(ClinicalAbbreviations.Default.Expand("zzz"));
    }
}
