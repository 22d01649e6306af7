using Casebook.Extract.Clinical.Phi;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;

namespace Casebook.Tests.Extract.Phi;

public class TextDeidentifierTests
{
    const string Note = "Patient: Maria Okafor  MRN: 4419023  DOB: 03/04/1961\nMs. Okafor was seen on 14-Mar-2019 by Dr. Adeyemi. " +
                        "Her mother, aged 93, lives at 42 Elm Street, Brookline, MA 02445. Since 2015 she has had Parkinson disease.";

    static (TempDirectory Tmp, PatientPseudonym Key) NewKey()
    {
        var tmp = new TempDirectory();
        return (tmp, PatientPseudonym.Load(tmp.KeyFile));
    }

    [Fact]
    public void Dates_move_by_the_patients_DICOM_date_shift_and_keep_their_format()
    {
        var (tmp, key) = NewKey();
        using var _ = tmp;
        var shift = DateShift.ForPatient(key, "local", "P1");
        var result = TextDeidentifier.ForPatient(key, "local", "P1").Apply(Note);
        var dob = new DateOnly(1961, 3, 4).AddDays(shift.Days);
        var seen = new DateOnly(2019, 3, 14).AddDays(shift.Days);
        Assert.Contains("DOB: " + dob.ToString("MM/dd/yyyy"), result.Text);
        Assert.Contains("seen on " + seen.ToString("dd-MMM-yyyy", System.Globalization.CultureInfo.InvariantCulture), result.Text);
        Assert.Contains("Since 2015", result.Text); // a year alone is not an identifier
        Assert.Contains("Parkinson disease", result.Text);
    }

    [Fact]
    public void Surrogates_are_consistent_within_a_patient_and_differ_between_patients()
    {
        var (tmp, key) = NewKey();
        using var _ = tmp;
        var a = TextDeidentifier.ForPatient(key, "local", "P1");
        var r1 = a.Apply(Note);
        var r2 = TextDeidentifier.ForPatient(key, "local", "P1").Apply("Okafor called back.\nPatient: Maria Okafor");
        Assert.DoesNotContain("Okafor", r1.Text);
        Assert.DoesNotContain("4419023", r1.Text);
        Assert.DoesNotContain("Elm Street", r1.Text);
        Assert.DoesNotContain("Brookline", r1.Text);
        Assert.DoesNotContain("Adeyemi", r1.Text);
        // "Maria Okafor" and "Ms. Okafor" use the same surname surrogate, in this note and in the next one.
        var header = r1.Spans.First(s => s.Type == PhiType.Name);
        var full = r1.Text[header.Start..header.End];
        var surname = full.Split(' ')[^1];
        Assert.Contains("Ms. " + surname + " was seen", r1.Text);
        Assert.Contains(full, r2.Text);
        var other = TextDeidentifier.ForPatient(key, "local", "P2").Apply(Note);
        Assert.NotEqual(r1.Text, other.Text);
        Assert.Contains("aged 90+", r1.Text);
    }

    [Fact]
    public void Tags_mode_writes_the_type_and_still_shifts_dates()
    {
        var (tmp, key) = NewKey();
        using var _ = tmp;
        var result = TextDeidentifier.ForPatient(key, "local", "P1", new TextDeidOptions { Replacement = PhiReplacement.Tag }).Apply(Note);
        Assert.StartsWith("Patient: [NAME]  MRN: [MRN]  DOB: ", result.Text);
        Assert.Contains("Ms. [NAME] was seen", result.Text);
        Assert.Contains("lives at [ADDRESS], [CITY], MA [ZIP]", result.Text);
        Assert.DoesNotContain("03/04/1961", result.Text);
        var noShift = TextDeidentifier.ForPatient(key, "local", "P1", new TextDeidOptions { Replacement = PhiReplacement.Tag, ShiftDates = false }).Apply(Note);
        Assert.Contains("DOB: [DATE]", noShift.Text);
        Assert.Equal(2, noShift.Counts[PhiType.Date]);
    }

    [Fact]
    public void Output_offsets_map_back_to_the_original()
    {
        var result = TextDeidentifier.OneOff(new TextDeidOptions { Replacement = PhiReplacement.Tag }).Apply("Seen by Dr. Adeyemi. Lungs clear.");
        var lungs = result.Text.IndexOf("Lungs", StringComparison.Ordinal);
        Assert.Equal("Seen by Dr. Adeyemi. Lungs clear.".IndexOf("Lungs", StringComparison.Ordinal), result.OriginalOffset(lungs));
    }

    [Fact]
    public void A_day_without_a_month_moves_with_the_date_before_it()
    {
        var deid = new TextDeidentifier(PhiDetector.Default, new byte[32], -10);
        Assert.Equal("Seen on March 4th, 2019 and again on the 11th.", deid.Apply("Seen on March 14th, 2019 and again on the 21st.").Text);
    }

    [Theory]
    [InlineData("03/14/2019", -10, "03/04/2019")]
    [InlineData("3/4/19", -4, "2/28/19")]
    [InlineData("3/4/2020", -4, "2/29/2020")]
    [InlineData("14-Mar-2019", -14, "28-Feb-2019")]
    [InlineData("14-MAR-2019", -14, "28-FEB-2019")]
    [InlineData("March 14th, 2019", -13, "March 1st, 2019")]
    [InlineData("2019-03-14", -365, "2018-03-14")]
    [InlineData("January 5, 2019", -30, "December 6, 2018")]
    [InlineData("the 14th", -2, "the 12th")]
    [InlineData("March 2019", -20, "February 2019")]
    [InlineData("25/12/2019", -1, "24/12/2019")]
    public void Date_shift_keeps_the_written_form(string date, int days, string expected) => Assert.Equal(expected, DateText.Shift(date, days));
}
