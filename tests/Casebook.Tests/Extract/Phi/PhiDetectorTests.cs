using Casebook.Extract.Clinical;
using Casebook.Extract.Clinical.Phi;

namespace Casebook.Tests.Extract.Phi;

/// <summary>Each Safe Harbor identifier type is found, and the near-misses clinical text is full of are left alone.</summary>
public class PhiDetectorTests
{
    static readonly IPhiDetector Detector = PhiDetector.Default;

    static List<(string Text, string Type)> Find(string text) => Detector.Find(text).Select(s => (text[s.Start..s.End], s.Type)).ToList();

    static void AssertFound(string text, string value, string type) =>
        Assert.True(Find(text).Contains((value, type)), $"expected {type} '{value}' in: {text}\nfound: {string.Join("; ", Find(text))}");

    static void AssertNothing(string text) => Assert.True(Find(text).Count == 0, $"expected no PHI in: {text}\nfound: {string.Join("; ", Find(text))}");

    [Theory]
    [InlineData("Patient: Maria Okafor    MRN: 4419023", "Maria Okafor")]
    [InlineData("Seen by Dr. Tunde Adeyemi in clinic.", "Tunde Adeyemi")]
    [InlineData("Mrs. Okonkwo reports less pain.", "Okonkwo")]
    [InlineData("Electronically signed by: Helen Vasquez, MD", "Helen Vasquez")]
    [InlineData("Dictated by Siobhan O'Sullivan", "Siobhan O'Sullivan")]
    [InlineData("Her husband, Chidi, was at the bedside.", "Chidi")]
    [InlineData("Ngozi Balogun is a 54-year-old woman with asthma.", "Ngozi Balogun")]
    [InlineData("PATIENT NAME: OKAFOR, MARIA", "OKAFOR, MARIA")]
    [InlineData("Discussed with Dr. Van Houten of urology.", "Van Houten")]
    [InlineData("Follow up with Priya Raghunathan, NP, in two weeks.", "Priya Raghunathan")]
    [InlineData("Dear Dr. Lindqvist,", "Lindqvist")]
    [InlineData("Will call Agnieszka with the results.", "Agnieszka")]
    [InlineData("Raghunathan's wound is healing well.", "Raghunathan")]
    public void Names_with_context_are_found(string text, string name) => AssertFound(text, name, PhiType.Name);

    [Fact]
    public void A_name_found_once_is_found_everywhere_in_the_note()
    {
        var text = "Patient: Oluwaseun Mensah\n\nMensah tolerated the procedure. Will call Oluwaseun tomorrow.";
        var names = Find(text).Where(f => f.Type == PhiType.Name).Select(f => f.Text).ToList();
        Assert.Equal(["Oluwaseun Mensah", "Mensah", "Oluwaseun"], names);
    }

    [Theory]
    [InlineData("History of Parkinson disease and Alzheimer's dementia.")]
    [InlineData("Sonographic Murphy sign negative. Kerley B lines. Colles fracture of the distal radius.")]
    [InlineData("A 19-French Jackson Pratt drain was left in place; Foley catheter removed.")]
    [InlineData("Hodgkin lymphoma in remission; Crohn disease on infliximab; Graves disease treated.")]
    [InlineData("The skin is dry. No drainage.")]
    [InlineData("IMPRESSION: Pneumonia.\nFINDINGS: Clear lungs.\nPLAN: Follow up.")]
    [InlineData("She takes Lasix, Coumadin and Zyrtec. Patient denies chest pain.")]
    [InlineData("Blood pressure 120/80, pulse 72. Strength 5/5 in all extremities. 2/6 systolic murmur.")]
    [InlineData("Disc bulge at L4-L5 and C5-6. T2-weighted images. Grade 3/4 reflux.")]
    [InlineData("Seen by Cardiology. Discussed with Radiology. Patient: Alert and oriented.")]
    [InlineData("She has had the symptoms since 2019 and was diagnosed in 2015.")]
    [InlineData("Epinephrine 1:200000. Platelets 250000 cells. Lidocaine 1% 5 mL.")]
    [InlineData("r/o MS If there is progressing weakness, refer.")]
    [InlineData("Model Name: Sigma. Rule out MI. Calcification is seen in the aorta.")]
    [InlineData("We may march the dose up. Transferred to the Emergency Department and the Pain Clinic.")]
    [InlineData("He is 72 years old; she is a 45-year-old with Guillain-Barre syndrome.")]
    [InlineData("Fournier's gangrene was discussed. Ringer's lactate given. Driver's license not available.")]
    [InlineData("Will call Cardiology and inform Radiology.")]
    public void Medical_words_eponyms_and_measurements_are_not_phi(string text) => AssertNothing(text);

    [Theory]
    [InlineData("DOB: 03/14/2019.", "03/14/2019")]
    [InlineData("Admitted 14-Mar-2019 via ED.", "14-Mar-2019")]
    [InlineData("Seen on March 14th, 2019 and again later.", "March 14th, 2019")]
    [InlineData("Last colonoscopy on 3/14 was normal.", "3/14")]
    [InlineData("Symptoms began on the 14th.", "the 14th")]
    [InlineData("CT of 2019-03-14 reviewed.", "2019-03-14")]
    [InlineData("Seen 14 March 2019.", "14 March 2019")]
    [InlineData("Surgery in March 2019.", "March 2019")]
    [InlineData("Follow-up planned for October 6.", "October 6")]
    [InlineData("Date: 14.03.2019", "14.03.2019")]
    [InlineData("Returns in December for review.", "December")]
    public void Dates_are_found_in_common_formats(string text, string date) => AssertFound(text, date, PhiType.Date);

    [Theory]
    [InlineData("Call (617) 555-0134 tomorrow.", "(617) 555-0134", "PHONE")]
    [InlineData("Mobile 07700 900123.", "07700 900123", "PHONE")]
    [InlineData("Records faxed to 617-555-0199.", "617-555-0199", "FAX")]
    [InlineData("Email chidi.okafor@gmail.com for results.", "chidi.okafor@gmail.com", "EMAIL")]
    [InlineData("SSN 123-45-6789 on file.", "123-45-6789", "SSN")]
    [InlineData("MRN: 4419023", "4419023", "MRN")]
    [InlineData("MR#: TJ687896", "TJ687896", "MRN")]
    [InlineData("Policy # XJ-88213-04 verified.", "XJ-88213-04", "HEALTH_PLAN")]
    [InlineData("Member ID: ABC123456789", "ABC123456789", "HEALTH_PLAN")]
    [InlineData("Account number 4471-22918.", "4471-22918", "ACCOUNT")]
    [InlineData("DEA # AB1234563 on the script.", "AB1234563", "LICENSE")]
    [InlineData("Driver's license S12345678.", "S12345678", "LICENSE")]
    [InlineData("VIN 1HGCM82633A004352 from the crash report.", "1HGCM82633A004352", "VEHICLE")]
    [InlineData("License plate 7ABC123.", "7ABC123", "VEHICLE")]
    [InlineData("Pacemaker serial number PJN7731245 interrogated.", "PJN7731245", "DEVICE")]
    [InlineData("See https://portal.example.org/p/88 for details.", "https://portal.example.org/p/88", "URL")]
    [InlineData("Login from 10.21.4.77.", "10.21.4.77", "IP")]
    [InlineData("Her mother is 93 years old.", "93", "AGE")]
    [InlineData("A 101-year-old man.", "101", "AGE")]
    [InlineData("Lives at 42 Elm Street, Apt 3.", "42 Elm Street, Apt 3", "ADDRESS")]
    [InlineData("Lives in Brookline, MA 02445.", "Brookline", "CITY")]
    [InlineData("Lives in Brookline, MA 02445.", "02445", "ZIP")]
    [InlineData("He is originally from Eastchester, New York.", "Eastchester", "CITY")]
    [InlineData("Transferred from St. Luke's Medical Center.", "St. Luke's Medical Center", "FACILITY")]
    public void Identifiers_are_found_with_their_type(string text, string value, string type) => AssertFound(text, value, type);

    [Theory]
    [InlineData("Take 2 tablets at 10:30. Weight 180 lb. Hemoglobin 12.5 g/dL.")]
    [InlineData("Signed Smith, MS.")] // "MS" after a comma is a credential, not Mississippi
    [InlineData("Version 1.2.3 of the protocol.")]
    public void Numbers_that_are_not_identifiers_are_left_alone(string text)
    {
        var found = Find(text).Where(f => f.Type != PhiType.Name).ToList();
        Assert.True(found.Count == 0, string.Join("; ", found));
    }

    [Fact]
    public void Spans_are_ordered_and_do_not_overlap()
    {
        var text = "Patient: Maria Okafor MRN 4419023 DOB 03/04/1961, 42 Elm Street, Brookline, MA 02445, (617) 555-0134, Dr. Adeyemi.";
        var spans = Detector.Find(text);
        Assert.True(spans.Count >= 7);
        for (var i = 1; i < spans.Count; i++) Assert.True(spans[i - 1].End <= spans[i].Start);
        Assert.All(spans, s => Assert.True(s.Start >= 0 && s.End <= text.Length && s.Start < s.End));
    }
}
