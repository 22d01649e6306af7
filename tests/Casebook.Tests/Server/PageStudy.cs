using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;
using Casebook.Tests.Search;

namespace Casebook.Tests.Server;

/// <summary>
/// A study with a timeline, for the search page's tests and the timeline endpoints: ingested once per run into the shared
/// server's copy of the demo database (never the demo corpus) as a CR report with three images, then a synthetic FHIR bundle
/// for the same patient: an older condition before the exam, and a low haemoglobin, a lung biopsy, a confirmed diagnosis and
/// a medication after it (its outcomes).
/// </summary>
public static class PageStudy
{
    public const string Id = "SRV-PAGE-0001", Patient = "PAT-9200";
    /// <summary>The stored (shifted) exam date; the manifest gives the un-shifted date that ingest moves here.</summary>
    public static readonly DateOnly ExamDate = new(2024, 3, 12);

    static Task? _ingested;
    static readonly Lock Gate = new();

    /// <summary>Ingests the study once per test run (later callers wait for the same ingest).</summary>
    public static Task EnsureAsync(DemoServer server, DemoCorpusFixture demo)
    {
        lock (Gate) return _ingested ??= IngestAsync(server, demo);
    }

    static async Task IngestAsync(DemoServer server, DemoCorpusFixture demo)
    {
        using var admin = server.As("admin");
        var images = Path.Combine(demo.CorpusDir, "images");
        var shift = DateShift.ForPatient(PatientPseudonym.Load(server.KeyFile), StudyManifest.DefaultIssuer, Patient);
        var sourceDate = ExamDate.AddDays(-shift.Days); // ingest shifts manifest dates like FHIR's
        var names = new[] { "cr-0001.png", "cr-0002.png", "cr-0003.png" };
        using (var form = new MultipartFormDataContent
        {
            { new StringContent($"study_id,patient_id,modality,exam_date,report,images\n{Id},{Patient},CR,{sourceDate:yyyy-MM-dd},p.txt,{string.Join(';', names)}\n"), "files", "studies.csv" },
            { new StringContent("FINDINGS: A 9 mm spiculated nodule in the right upper lobe. Mild emphysema.\n\nIMPRESSION: Spiculated right upper lobe nodule; biopsy advised."), "files", "p.txt" },
        })
        {
            foreach (var n in names) form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(images, n))), "files", n);
            await SearchPageBrowserTests.RunIngestJobAsync(admin, form);
        }
        using (var fhir = new MultipartFormDataContent { { new StringContent(FhirBundle(server)), "files", "bundle.json" } })
            await SearchPageBrowserTests.RunIngestJobAsync(admin, fhir);
        var timeline = JsonNode.Parse(await admin.GetStringAsync($"api/studies/{Id}/timeline"))!;
        Assert.Equal(5, timeline["events"]!.AsArray().Count);
    }

    /// <summary>
    /// FHIR R4 for the page study's patient. Ingest shifts FHIR and manifest dates by the patient's keyed date shift, so the
    /// source dates here are the wanted dates un-shifted: each event lands the stated days from the exam.
    /// </summary>
    static string FhirBundle(DemoServer server)
    {
        var shift = DateShift.ForPatient(PatientPseudonym.Load(server.KeyFile), StudyManifest.DefaultIssuer, Patient);
        string At(int days) => ExamDate.AddDays(days - shift.Days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        static string Subject() => """ "subject": { "reference": "urn:uuid:page-pt" } """;
        static string Confirmed() => """
            "clinicalStatus": { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active" } ] },
            "verificationStatus": { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed" } ] },
            """;
        return $$"""
            { "resourceType": "Bundle", "type": "transaction", "entry": [
              { "fullUrl": "urn:uuid:page-pt", "request": { "method": "POST", "url": "Patient" },
                "resource": { "resourceType": "Patient", "id": "page-pt", "gender": "female", "birthDate": "1957-08-14",
                  "identifier": [ { "type": { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR" } ] }, "value": "{{Patient}}" } ] } },
              { "fullUrl": "urn:uuid:page-copd", "request": { "method": "POST", "url": "Condition" },
                "resource": { "resourceType": "Condition", "id": "page-copd", "onsetDateTime": "{{At(-200)}}", {{Confirmed()}}
                  "code": { "coding": [ { "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J44.9", "display": "Chronic obstructive pulmonary disease" } ] }, {{Subject()}} } },
              { "fullUrl": "urn:uuid:page-hb", "request": { "method": "POST", "url": "Observation" },
                "resource": { "resourceType": "Observation", "id": "page-hb", "status": "final", "effectiveDateTime": "{{At(2)}}",
                  "category": [ { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory" } ] } ],
                  "code": { "coding": [ { "system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood" } ] }, {{Subject()}},
                  "valueQuantity": { "value": 10.9, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL" },
                  "referenceRange": [ { "low": { "value": 12.0, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL" }, "high": { "value": 15.5, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL" } } ] } },
              { "fullUrl": "urn:uuid:page-bx", "request": { "method": "POST", "url": "Procedure" },
                "resource": { "resourceType": "Procedure", "id": "page-bx", "status": "completed", "performedDateTime": "{{At(9)}}",
                  "code": { "coding": [ { "system": "http://snomed.info/sct", "code": "241040003", "display": "Biopsy of lung" } ] }, {{Subject()}} } },
              { "fullUrl": "urn:uuid:page-dx", "request": { "method": "POST", "url": "Condition" },
                "resource": { "resourceType": "Condition", "id": "page-dx", "onsetDateTime": "{{At(14)}}", {{Confirmed()}}
                  "code": { "coding": [ { "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C34.11", "display": "Malignant neoplasm of upper lobe, right bronchus or lung" } ] }, {{Subject()}} } },
              { "fullUrl": "urn:uuid:page-rx", "request": { "method": "POST", "url": "MedicationRequest" },
                "resource": { "resourceType": "MedicationRequest", "id": "page-rx", "status": "active", "intent": "order", "authoredOn": "{{At(40)}}",
                  "medicationCodeableConcept": { "coding": [ { "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "2555", "display": "cisplatin" } ] }, {{Subject()}} } }
            ] }
            """;
    }
}
