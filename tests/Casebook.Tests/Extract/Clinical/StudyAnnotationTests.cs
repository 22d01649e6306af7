using System.Text.Json.Nodes;
using Casebook.Extract.Clinical;
using Casebook.Model;

namespace Casebook.Tests.Extract.Clinical;

public class StudyAnnotationTests
{
    static StudyRecord Study(params (string Kind, string Text)[] segments) => new()
    {
        StudyId = "S1",
        Segments = segments.Select((s, i) => new SegmentRecord { SegmentId = $"S1/{s.Kind}/{i}", Kind = s.Kind, Text = s.Text }).ToList(),
    };

    [Fact]
    public void Every_text_segment_is_annotated_and_image_slices_are_skipped()
    {
        var s = Study((SegmentKind.ReportParagraph, "Small right pleural effusion."), (SegmentKind.DictationSegment, "patient denies chest pain"),
            (SegmentKind.ImageSlice, "pneumonia"));
        StudyAnnotation.Annotate(s);
        var terms = s.PathologyFindings.OfType<JsonObject>().Select(o => o["term"]!.GetValue<string>()).ToList();
        Assert.Equal(["pleural effusion", "chest pain"], terms);
        Assert.Equal("S1/dictation_segment/1", s.PathologyFindings[1]!["evidence"]![0]!["segment"]!.GetValue<string>());
        Assert.Equal(["ICD10:J90"], s.ClinicalCodes);
    }

    [Fact]
    public void Elements_and_codes_from_other_sources_are_kept_and_a_second_run_changes_nothing()
    {
        var s = Study((SegmentKind.ReportParagraph, "No pneumothorax. History of hypertension."));
        s.ClinicalCodes.Add("SNOMED:38341003");
        s.PathologyFindings.Add(new JsonObject { ["name"] = "asthma", ["source"] = "fhir" });
        StudyAnnotation.Annotate(s);
        var once = s.PathologyFindings.ToJsonString() + s.RiskFactors.ToJsonString() + string.Join(",", s.ClinicalCodes);
        StudyAnnotation.Annotate(s);
        Assert.Equal(once, s.PathologyFindings.ToJsonString() + s.RiskFactors.ToJsonString() + string.Join(",", s.ClinicalCodes));
        Assert.Equal("asthma", s.PathologyFindings[0]!["name"]!.GetValue<string>());
        Assert.Equal(["SNOMED:38341003", "ICD10:I10"], s.ClinicalCodes); // the negated pneumothorax adds no code; a history of hypertension is a risk factor
        Assert.Contains("xnegpneumothorax", StudyAnnotation.MatchText(s));
        Assert.DoesNotContain(" pneumothorax", StudyAnnotation.MatchText(s));
    }
}
