using Casebook.Extract.Clinical;

namespace Casebook.Tests.Extract.Clinical;

public class ConTextAssertionTests
{
    static Assertion A(string sentence, string target) => ClinicalAnalyzer.Default.Assert(sentence, target);

    [Theory]
    [InlineData("No pneumothorax.", "pneumothorax")]
    [InlineData("The patient denies chest pain, shortness of breath, nausea, or fever.", "fever")]
    [InlineData("There is no evidence of focal consolidation, pleural effusion, or pneumothorax.", "pneumothorax")]
    [InlineData("Lungs are clear of focal airspace disease or effusion.", "effusion")]
    [InlineData("Pulmonary embolism was ruled out.", "pulmonary embolism")]
    [InlineData("Chest x-ray negative for pneumonia.", "pneumonia")]
    [InlineData("His chest pain has resolved.", "chest pain")]
    [InlineData("He doesn't have any fevers.", "fevers")]
    [InlineData("Pain free since surgery.", "pain")]
    public void Negated_mentions_are_negated(string sentence, string target) => Assert.True(A(sentence, target).Negated);

    [Theory]
    [InlineData("No significant interval change in the left pleural effusion.", "pleural effusion")] // pseudo-trigger
    [InlineData("Gram negative rods grew from the sputum; pneumonia treated.", "pneumonia")]
    [InlineData("No fever but she has a productive cough.", "productive cough")] // "but" ends the scope
    [InlineData("Denies chest pain; reports shortness of breath.", "shortness of breath")]
    [InlineData("No acute distress, however a right pleural effusion is present.", "pleural effusion")]
    [InlineData("Small left pneumothorax.", "pneumothorax")]
    [InlineData("Not only pneumonia but also sepsis.", "pneumonia")]
    [InlineData("No fever, possible pneumonia.", "pneumonia")] // uncertainty ends the negation's scope
    public void Affirmed_mentions_are_not_negated(string sentence, string target) => Assert.False(A(sentence, target).Negated);

    [Theory]
    [InlineData("Rule out pulmonary embolism.", "pulmonary embolism")]
    [InlineData("r/o MI", "MI")]
    [InlineData("Possible small right pleural effusion.", "pleural effusion")]
    [InlineData("Pneumonia cannot be excluded.", "pneumonia")]
    [InlineData("Findings are suspicious for malignancy.", "malignancy")]
    [InlineData("Pneumonia not ruled out.", "pneumonia")]
    public void Hedged_mentions_are_uncertain_not_negated(string sentence, string target)
    {
        var a = A(sentence, target);
        Assert.True(a.Uncertain);
        Assert.False(a.Negated);
    }

    [Fact]
    public void Historical_hypothetical_and_other_experiencer()
    {
        Assert.True(A("History of myocardial infarction in 2010.", "myocardial infarction").Historical);
        Assert.True(A("Status post cholecystectomy.", "cholecystectomy").Historical);
        Assert.False(A("3-day history of cough.", "cough").Historical); // a duration dates the current complaint
        Assert.False(A("History of present illness: chest pain since this morning.", "chest pain").Historical);
        Assert.True(A("Return to the ER if chest pain recurs.", "chest pain").Hypothetical);
        Assert.True(A("Risks including bleeding and infection were discussed.", "infection").Hypothetical);
        Assert.Equal("other", A("Mother had breast cancer at 50.", "breast cancer").Experiencer);
        Assert.Equal("other", A("Family history of colon cancer.", "colon cancer").Experiencer);
        Assert.Equal("patient", A("The patient has diabetes.", "diabetes").Experiencer);
        var both = A("No family history of diabetes.", "diabetes");
        Assert.True(both.Negated);
        Assert.Equal("other", both.Experiencer);
    }

    [Fact]
    public void Target_is_found_case_insensitively_with_any_whitespace_and_partially()
    {
        Assert.True(A("NO   CHEST\tPAIN.", "chest pain").Negated);
        Assert.True(A("Denies fevers or chills.", "fever").Negated); // plural in the text
        Assert.True(A("No acute pulmonary embolus.", "pulmonary embolism").Negated); // best partial match
        Assert.False(A("Pneumonia. No effusion.", "pneumonia").Negated); // only the target's sentence is in scope
        Assert.False(A("Pneumonia present, no pneumonia elsewhere", "pneumonia").Negated); // first occurrence
    }

    [Theory]
    [InlineData("Small left pleural effusion.", "left")]
    [InlineData("Right lower lobe pneumonia.", "right")]
    [InlineData("Bilateral pleural effusions.", "bilateral")]
    [InlineData("Effusions are seen on the left.", "left")]
    [InlineData("Opacities bilaterally.", "bilateral")]
    [InlineData("Pleural effusion.", null)]
    public void Laterality_comes_from_the_words_next_to_the_finding(string text, string? expected)
    {
        var finding = ClinicalAnalyzer.Default.Analyze(text).Concepts.First(c => c.Category == ConceptCategory.Finding);
        Assert.Equal(expected, finding.Laterality);
    }
}
