using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Extract.Documents;
using Casebook.Ingest;
using Casebook.Ingest.Fhir;
using Casebook.Model;
using Casebook.Timeline;

namespace Casebook.Tests.Ingest.Fhir;

/// <summary>FHIR ingest on bundles and NDJSON written by the tests: bad input, units, DICOM alignment.</summary>
public class FhirIngestTests
{
    static JsonObject Patient(string id, string mrn, string? system = null)
    {
        var p = PatientWithoutSystem(id, mrn);
        if (system != null) p["identifier"]![0]!["system"] = system;
        return p;
    }

    static JsonObject PatientWithoutSystem(string id, string mrn) => new()
    {
        ["resourceType"] = "Patient", ["id"] = id,
        ["identifier"] = new JsonArray(new JsonObject
        {
            ["type"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/v2-0203", ["code"] = "MR" }) },
            ["value"] = mrn,
        }),
        ["name"] = new JsonArray(new JsonObject { ["family"] = "Zebulon", ["given"] = new JsonArray("Quentin") }),
        ["gender"] = "female", ["birthDate"] = "1970-06-15",
        ["address"] = new JsonArray(new JsonObject { ["line"] = new JsonArray("17 Nowhere Lane"), ["city"] = "Smalltown" }),
    };

    static JsonObject Bundle(string type, params JsonObject[] resources) => new()
    {
        ["resourceType"] = "Bundle", ["type"] = type,
        ["entry"] = new JsonArray(resources.Select(r => (JsonNode)new JsonObject { ["fullUrl"] = $"urn:uuid:{r["id"]}", ["resource"] = r }).ToArray()),
    };

    static JsonObject Observation(string id, string patient, string loinc, string display, double value, string unit, string time, JsonObject? extra = null)
    {
        var o = new JsonObject
        {
            ["resourceType"] = "Observation", ["id"] = id, ["status"] = "final",
            ["category"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/observation-category", ["code"] = "laboratory" }) }),
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = loinc, ["display"] = display }) },
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
            ["effectiveDateTime"] = time,
            ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit, ["system"] = "http://unitsofmeasure.org", ["code"] = unit },
        };
        foreach (var (k, v) in extra ?? new JsonObject()) o[k] = v?.DeepClone();
        return o;
    }

    [Fact]
    public void Bad_files_and_resources_are_reported_by_file_and_resource_and_the_rest_goes_on()
    {
        using var tmp = new TempDirectory();
        var dir = Directory.CreateDirectory(tmp["fhir"]).FullName;
        File.WriteAllText(Path.Combine(dir, "broken.json"), "{\"resourceType\": \"Bundle\", \"entry\": [ {\"resource\": ");
        var good = Bundle("collection",
            Patient("p1", "MRN-1"),
            new JsonObject { ["resourceType"] = "Patinet", ["id"] = "typo" },
            new JsonObject { ["resourceType"] = "Condition", ["id"] = "no-subject", ["code"] = new JsonObject { ["text"] = "Asthma" } },
            new JsonObject { ["resourceType"] = "Condition", ["id"] = "bad-status", ["clinicalStatus"] = "active", ["subject"] = new JsonObject { ["reference"] = "Patient/p1" } },
            new JsonObject { ["resourceType"] = "Condition", ["id"] = "unknown-patient", ["code"] = new JsonObject { ["text"] = "Gout" }, ["subject"] = new JsonObject { ["reference"] = "Patient/elsewhere" } },
            new JsonObject
            {
                ["resourceType"] = "Condition", ["id"] = "c1", ["subject"] = new JsonObject { ["reference"] = "urn:uuid:p1" }, ["onsetDateTime"] = "2020-05-01",
                ["verificationStatus"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["code"] = "confirmed" }) },
                ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://snomed.info/sct", ["code"] = "195967001", ["display"] = "Asthma" }) },
            },
            new JsonObject { ["resourceType"] = "Observation", ["id"] = "no-value", ["status"] = "final", ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
                ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = "2339-0", ["display"] = "Glucose" }) },
                ["dataAbsentReason"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["code"] = "not-performed" }) } });
        File.WriteAllText(Path.Combine(dir, "good.json"), good.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "lines.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"p2\",\"identifier\":[{\"value\":\"X\"}]}\nnot json\n");
        var notFhir = tmp["other.json"];
        File.WriteAllText(notFhir, "{\"hello\": 1}");

        using var db = tmp.OpenDb();
        var r = db.Ingest([dir, notFhir]);
        string Error(string file, string contains) => Assert.Single(r.Errors, e => e.File.EndsWith(file) && e.Reason.Contains(contains)).Reason;
        Assert.Contains("not valid JSON", Error("broken.json", "JSON"));
        Assert.Contains("'Patinet' is not an R4 resource type", Error("good.json", "Patinet"));
        Assert.Contains("Condition/no-subject", Error("good.json", "no subject reference"));
        Assert.Contains("entry[3] Condition/bad-status: ingested despite", Error("good.json", "bad-status")); // tolerated, still reported
        Assert.Contains("Patient/elsewhere", Error("good.json", "unknown-patient"));
        Assert.Contains("line 2", Error("lines.ndjson", "not valid JSON"));
        Assert.Contains("no \"resourceType\"", Error("other.json", "resourceType"));
        Assert.True(r.Errors.Count == 7, string.Join("\n", r.Errors));

        // The good resources went in: the confirmed condition, and the observation without a value, marked, not imputed.
        var pseudo = PatientPseudonym.Load(tmp.KeyFile).Pseudonymise(StudyManifest.DefaultIssuer, "MRN-1");
        var events = db.PatientEvents(pseudo);
        var asthma = Assert.Single(events, e => e.Type == EventType.Condition && e.Code == "195967001");
        var tolerated = Assert.Single(events, e => e.Type == EventType.Condition && e.Code == null); // bad-status: in, with its gaps named
        Assert.Equal(["code", "time"], tolerated.Missing);
        Assert.Equal("confirmed", asthma.Status);
        Assert.Equal("day", asthma.Precision);
        var glucose = Assert.Single(events, e => e.Type == EventType.Observation);
        Assert.Null(glucose.Value);
        Assert.Null(glucose.Abnormal);
        Assert.Equal(["time", "value"], glucose.Missing); // no effective[x] either: both named, neither filled in
        Assert.Equal("not-performed", glucose.Detail["data_absent_reason"]!.GetValue<string>());
        // Nothing identifying was stored.
        var raw = File.ReadAllText(Path.Combine(db.Directory, "casebook.db"), Encoding.Latin1);
        Assert.DoesNotContain("Zebulon", raw);
        Assert.DoesNotContain("Nowhere", raw);
        Assert.DoesNotContain("MRN-1", raw);
    }

    [Fact]
    public void Bulk_ndjson_labs_are_normalised_to_ucum_and_flagged_across_units()
    {
        using var tmp = new TempDirectory();
        var dir = Directory.CreateDirectory(tmp["bulk"]).FullName;
        File.WriteAllText(Path.Combine(dir, "Patient.ndjson"), Patient("p9", "MRN-9", "urn:oid:1.2.3.4").ToJsonString() + "\n");
        var range = new JsonObject { ["referenceRange"] = new JsonArray(new JsonObject { ["low"] = new JsonObject { ["value"] = 0.7, ["code"] = "g/L" }, ["high"] = new JsonObject { ["value"] = 0.99, ["code"] = "g/L" } }) };
        var high = new JsonObject { ["interpretation"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["code"] = "H" }) }) };
        var lines = new[]
        {
            Observation("o1", "p9", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 6.5, "%", "2021-01-10T08:00:00+01:00"),
            Observation("o2", "p9", "59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol", 48, "mmol/mol", "2021-02"),
            Observation("o3", "p9", "2345-7", "Glucose", 110, "mg/dL", "2021-03-01", range),   // 1.10 g/L > 0.99 g/L
            Observation("o4", "p9", "2345-7", "Glucose", 0.85, "g/L", "2021-04-01", range),
            Observation("o5", "p9", "2345-7", "Glucose", 0.85, "g/L", "2021", high),            // the source's own flag wins
            Observation("o6", "p9", "8310-5", "Body temperature", 38.5, "Cel", "2021-05-01"),
        };
        File.WriteAllText(Path.Combine(dir, "Observation.ndjson"), string.Join("\n", lines.Select(l => l.ToJsonString())) + "\n");
        using var db = tmp.OpenDb();
        var r = db.Ingest([dir]);
        Assert.Empty(r.Errors);
        var key = PatientPseudonym.Load(tmp.KeyFile);
        var events = db.PatientEvents(key.Pseudonymise("urn:oid:1.2.3.4", "MRN-9"));
        Assert.Equal(6, events.Count);
        // HbA1c 6.5 % (NGSP) and 48 mmol/mol (IFCC) land on the same canonical scale (master equation: 6.5 % ≈ 47.5 mmol/mol).
        var ngsp = events.Single(e => e.Unit == "%");
        var ifcc = events.Single(e => e.Unit == "mmol/mol");
        Assert.Equal("mmol/mol", ngsp.CanonicalUnit);
        Assert.Equal(47.5, ngsp.CanonicalValue!.Value, 1);
        Assert.Equal(48, ifcc.CanonicalValue!.Value, 6);
        Assert.True(ngsp.Abnormal); Assert.Equal("reference_interval_table", ngsp.AbnormalBasis);
        Assert.True(ifcc.Abnormal);
        // Partial dates keep their precision; a full date-time keeps its clock and offset.
        Assert.Equal("month", ifcc.Precision);
        Assert.Matches(@"^\d{4}-\d{2}$", ifcc.Time);
        Assert.EndsWith("T08:00:00+01:00", ngsp.Time);
        // mg/dL and g/L compare after normalisation: 110 mg/dL is above a 0.99 g/L upper limit, 0.85 g/L is not.
        var glucose = events.Where(e => e.Code == "2345-7").OrderBy(e => e.SortTime, StringComparer.Ordinal).ToList();
        var mgdl = glucose.Single(e => e.Unit == "mg/dL");
        Assert.Equal("g.m-3", mgdl.CanonicalUnit);
        Assert.Equal(1100, mgdl.CanonicalValue!.Value, 6);
        Assert.True(mgdl.Abnormal); Assert.Equal("reference_range", mgdl.AbnormalBasis);
        var gl = glucose.Single(e => e.Unit == "g/L" && e.Precision == "day");
        Assert.Equal(850, gl.CanonicalValue!.Value, 6);
        Assert.False(gl.Abnormal);
        var flagged = glucose.Single(e => e.Precision == "year");
        Assert.True(flagged.Abnormal); Assert.Equal("interpretation", flagged.AbnormalBasis);
        var temp = events.Single(e => e.Unit == "Cel");
        Assert.Equal("K", temp.CanonicalUnit);
        Assert.Equal(311.65, temp.CanonicalValue!.Value, 6);
    }

    [Fact]
    public void Dicom_and_fhir_of_one_patient_line_up_on_one_study_in_either_order()
    {
        using var tmp = new TempDirectory();
        var dcm = SharedData.Require("dicom/pydicom/CT_small.dcm");
        var header = DicomFile.Open(dcm, DicomReadOptions.HeaderOnly).Dataset;
        var uid = header.GetString(new DicomTag(0x0020000D))!.Trim();
        var patientId = header.GetString(new DicomTag(0x00100020))!.Trim();
        var studyDate = header.GetString(new DicomTag(0x00080020))!.Trim(); // yyyyMMdd
        var started = $"{studyDate[..4]}-{studyDate[4..6]}-{studyDate[6..8]}T09:30:00Z";
        var later = DateOnly.ParseExact(studyDate, "yyyyMMdd").AddDays(20).ToString("yyyy-MM-dd");
        var report = Convert.ToBase64String(Encoding.UTF8.GetBytes("FINDINGS: Spiculated nodule in the right upper lobe.\n\nIMPRESSION: Suspicious for malignancy; biopsy advised."));
        var bundle = Bundle("transaction",
            Patient("pt", patientId), // identifier with no system: issuer "local", as DICOM without IssuerOfPatientID
            new JsonObject
            {
                ["resourceType"] = "ImagingStudy", ["id"] = "is1", ["status"] = "available", ["started"] = started,
                ["identifier"] = new JsonArray(new JsonObject { ["system"] = "urn:dicom:uid", ["value"] = "urn:oid:" + uid }),
                ["subject"] = new JsonObject { ["reference"] = "urn:uuid:pt" },
                ["reasonCode"] = new JsonArray(new JsonObject { ["text"] = "persistent cough" }),
                ["series"] = new JsonArray(new JsonObject { ["uid"] = "1.2.3", ["modality"] = new JsonObject { ["system"] = "http://dicom.nema.org/resources/ontology/DCM", ["code"] = "CT" }, ["bodySite"] = new JsonObject { ["display"] = "Chest" } }),
            },
            new JsonObject
            {
                ["resourceType"] = "DiagnosticReport", ["id"] = "dr1", ["status"] = "final", ["effectiveDateTime"] = started,
                ["code"] = new JsonObject { ["text"] = "CT chest report" }, ["subject"] = new JsonObject { ["reference"] = "urn:uuid:pt" },
                ["imagingStudy"] = new JsonArray(new JsonObject { ["reference"] = "urn:uuid:is1" }),
                ["presentedForm"] = new JsonArray(new JsonObject { ["contentType"] = "text/plain; charset=utf-8", ["data"] = report }),
            },
            new JsonObject
            {
                ["resourceType"] = "Procedure", ["id"] = "bx", ["status"] = "completed", ["performedDateTime"] = later,
                ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://snomed.info/sct", ["code"] = "241040003", ["display"] = "Biopsy of lung" }) },
                ["subject"] = new JsonObject { ["reference"] = "urn:uuid:pt" },
            });
        var fhirFile = tmp["study.json"];
        File.WriteAllText(fhirFile, bundle.ToJsonString());
        var dicomDir = Directory.CreateDirectory(tmp["dicom"]).FullName;
        File.Copy(dcm, Path.Combine(dicomDir, "ct.dcm"));

        var key = PatientPseudonym.Load(tmp.KeyFile);
        var studyId = new UidRemapper(key).Remap(uid);
        var shift = DateShift.ForPatient(key, StudyManifest.DefaultIssuer, patientId);
        var shiftedDate = shift.Apply(DateOnly.ParseExact(studyDate, "yyyyMMdd")).ToString("yyyy-MM-dd");

        void AssertMerged(CasebookDb db)
        {
            var s = db.GetStudy(studyId)!;
            Assert.Equal(key.Pseudonymise(StudyManifest.DefaultIssuer, patientId), s.PatientPseudoId);
            Assert.Equal(shiftedDate, s.ExamDate); // DICOM's shifted StudyDate and FHIR's shifted started agree
            Assert.Contains(s.Segments, g => g.Kind == SegmentKind.ImageSlice && g.ImageEmbedding != null);
            Assert.Contains(s.Segments, g => g.Kind == SegmentKind.ReportParagraph && g.Text!.Contains("Spiculated nodule"));
            Assert.Contains("persistent cough", s.ReportText);
            Assert.NotNull(s.DicomImage);
            var imaging = Assert.Single(db.PatientEvents(s.PatientPseudoId), e => e.Type == EventType.Imaging);
            Assert.Equal(studyId, imaging.StudyId);
            Assert.StartsWith(shiftedDate, imaging.Time);
            var outcome = Assert.Single(db.Outcomes(studyId), o => o.Kind == OutcomeKind.Procedure);
            Assert.Equal("Biopsy of lung", outcome.Event.Display);
            Assert.Equal(20, Math.Round(outcome.DaysAfter)); // intervals survive the shift (from 09:30 to midnight: 19.6 days)
            Assert.Contains(s.TimelineEvents, e => e!["display"]?.GetValue<string>() == "Biopsy of lung");
        }

        // DICOM first, then FHIR: a new version merges the FHIR text into the image study.
        using (var db = tmp.OpenDb("a"))
        {
            Assert.Empty(db.Ingest([dicomDir]).Errors);
            var r = db.Ingest([fhirFile]);
            Assert.Empty(r.Errors);
            Assert.Equal(1, db.CountStudies());
            AssertMerged(db);
            // Re-ingesting the DICOM alone keeps the FHIR text (merge, not replace), and changes nothing.
            var before = db.GetStudy(studyId)!;
            var again = db.Ingest([dicomDir]);
            var after = db.GetStudy(studyId)!;
            Assert.True(again.Inserted + again.Updated == 0, $"metadata {before.Metadata.ToJsonString()} -> {after.Metadata.ToJsonString()}; segments {string.Join(",", before.Segments.Select(g => g.SegmentId + g.TextModel + g.ImageModel))} -> {string.Join(",", after.Segments.Select(g => g.SegmentId + g.TextModel + g.ImageModel))}; text same {before.ReportText == after.ReportText}; timeline same {before.TimelineEvents.ToJsonString() == after.TimelineEvents.ToJsonString()}; sparse {before.SparseTerms.Count}/{after.SparseTerms.Count} {before.Modality}/{after.Modality} {before.ExamDate}/{after.ExamDate} {before.DicomImage}/{after.DicomImage}");
            AssertMerged(db);
        }
        // FHIR first (a study row of its own until the images arrive), then DICOM.
        using (var db = tmp.OpenDb("b"))
        {
            Assert.Empty(db.Ingest([fhirFile]).Errors);
            var early = db.GetStudy(studyId)!;
            Assert.DoesNotContain(early.Segments, g => g.Kind == SegmentKind.ImageSlice);
            Assert.Equal("CT", early.Modality);
            Assert.Empty(db.Ingest([dicomDir]).Errors);
            Assert.Equal(1, db.CountStudies());
            AssertMerged(db);
        }
        // Both in one ingest.
        using (var db = tmp.OpenDb("c"))
        {
            Assert.Empty(db.Ingest([dicomDir, fhirFile]).Errors);
            Assert.Equal(1, db.CountStudies());
            AssertMerged(db);
        }
    }

    [Fact]
    public void Documents_allergies_and_medication_statements_reach_the_timeline_and_the_text_pipeline()
    {
        using var tmp = new TempDirectory();
        var pdf = SyntheticScan.TextPdf([["DISCHARGE SUMMARY", "Admitted with community acquired pneumonia of the left lower lobe.", "Treated with amoxicillin."]]);
        var bundle = Bundle("searchset",
            Patient("p5", "MRN-5"),
            new JsonObject
            {
                ["resourceType"] = "DocumentReference", ["id"] = "doc1", ["status"] = "current", ["date"] = "2022-06-01T10:00:00Z",
                ["type"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = "18842-5", ["display"] = "Discharge summary" }) },
                ["subject"] = new JsonObject { ["reference"] = "Patient/p5" },
                ["content"] = new JsonArray(new JsonObject { ["attachment"] = new JsonObject { ["contentType"] = "application/pdf", ["data"] = Convert.ToBase64String(pdf) } }),
            },
            new JsonObject
            {
                ["resourceType"] = "DocumentReference", ["id"] = "doc2", ["status"] = "current",
                ["subject"] = new JsonObject { ["reference"] = "Patient/p5" },
                ["content"] = new JsonArray(new JsonObject { ["attachment"] = new JsonObject { ["contentType"] = "text/plain", ["url"] = "https://example.org/note.txt" } }),
            },
            new JsonObject
            {
                ["resourceType"] = "AllergyIntolerance", ["id"] = "al1", ["patient"] = new JsonObject { ["reference"] = "Patient/p5" }, ["recordedDate"] = "2022-05-30",
                ["verificationStatus"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["code"] = "confirmed" }) },
                ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://snomed.info/sct", ["code"] = "91936005", ["display"] = "Allergy to penicillin" }) },
            },
            new JsonObject
            {
                ["resourceType"] = "MedicationStatement", ["id"] = "ms1", ["status"] = "active", ["subject"] = new JsonObject { ["reference"] = "Patient/p5" },
                ["effectivePeriod"] = new JsonObject { ["start"] = "2022-06-02" },
                ["medicationCodeableConcept"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://www.nlm.nih.gov/research/umls/rxnorm", ["code"] = "308182", ["display"] = "Amoxicillin 250 MG Oral Capsule" }) },
            });
        var file = tmp["docs.json"];
        File.WriteAllText(file, bundle.ToJsonString());
        using var db = tmp.OpenDb();
        var r = db.Ingest([file]);
        // The URL-only attachment is reported, not fetched; everything else goes in.
        var e = Assert.Single(r.Errors);
        Assert.Contains("DocumentReference/doc2", e.Reason);
        Assert.Contains("only a URL", e.Reason);

        // The PDF's text layer became a document study whose paragraphs are embedded and searchable like any report.
        var doc = Assert.Single(db.Studies());
        Assert.StartsWith("fhir-DocumentReference-", doc.StudyId);
        Assert.Contains("community acquired pneumonia", doc.ReportText);
        Assert.Contains(doc.Segments, g => g.Kind == SegmentKind.ReportParagraph && g.Text!.Contains("amoxicillin") && g.TextEmbedding != null);
        Assert.Contains(db.Search("pneumonia left lower lobe").Limit(5).ToList(), h => h.StudyId == doc.StudyId);

        var events = db.PatientEvents(doc.PatientPseudoId);
        var allergy = Assert.Single(events, x => x.Type == EventType.Allergy);
        Assert.Equal("confirmed", allergy.Status);
        var med = Assert.Single(events, x => x.Type == EventType.Medication);
        Assert.Equal("statement", med.Detail["intent"]!.GetValue<string>());
        Assert.Equal(2, events.Count(x => x.Type == EventType.Report));
        Assert.Equal(doc.StudyId, events.Single(x => x.Type == EventType.Report && x.Time != null).StudyId);
        // The medication started after the document: an outcome of it.
        Assert.Contains(db.Outcomes(doc.StudyId), o => o.Kind == OutcomeKind.Medication && o.Event.Code == "308182");
    }
}
