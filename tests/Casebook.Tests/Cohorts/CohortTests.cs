using System.Text.Json.Nodes;
using Casebook.Cli;
using Casebook.Cohorts;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Tests.Storage;
using DuckDB.NET.Data;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Cohorts;

/// <summary>
/// Two sites' FHIR written by the test: site A reports HbA1c in % (LOINC 4548-4), site B in IFCC mmol/mol (59261-8).
/// Patients (HbA1c; diabetes code):
///   A1: 6.7 %, 6.9 % 234 days apart; E11.9 confirmed      → lab window yes, E11 yes
///   A2: 6.6 %, 6.8 % 730 days apart; E11.65 refuted       → lab window no (too far apart), E11 no (refuted)
///   B3: 50, 53 mmol/mol (6.73 %, 7.00 %) 120 days apart; E11 provisional → lab yes, E11 only when provisional counts
///   B4: 46, 47 mmol/mol (6.36 %, 6.45 %) 30 days apart; E11.9 confirmed → lab no (below 6.5 %), E11 yes
///   A5: one 7.0 %; I10 confirmed                          → lab no (only one), E11 no
/// </summary>
public sealed class CohortFixture : IDisposable
{
    public TempDirectory Temp { get; } = new();
    public CasebookDb Db { get; }

    public CohortFixture()
    {
        var dir = Directory.CreateDirectory(Temp["fhir"]).FullName;
        File.WriteAllText(Path.Combine(dir, "site-a.json"), Bundle(
            Patient("a1", "MRN-A1", "Zebulon", "Quentin"), Lab("a1-1", "a1", "4548-4", 6.7, "%", "2020-01-10"), Lab("a1-2", "a1", "4548-4", 6.9, "%", "2020-09-01"),
            Condition("a1-c", "a1", "E11.9", "confirmed", "2020-01-10"), Imaging("a1-is", "a1", "2.25.1001", "2020-02-01", "CT"),
            Patient("a2", "MRN-A2", "Xanthippe", "Ormsby"), Lab("a2-1", "a2", "4548-4", 6.6, "%", "2018-01-01"), Lab("a2-2", "a2", "4548-4", 6.8, "%", "2020-01-01"),
            Condition("a2-c", "a2", "E11.65", "refuted", "2018-01-01"), Imaging("a2-is", "a2", "2.25.1002", "2019-03-01", "MR"),
            Patient("a5", "MRN-A5", "Wilhelmina", "Pettigrew"), Lab("a5-1", "a5", "4548-4", 7.0, "%", "2021-05-05"),
            Condition("a5-c", "a5", "I10", "confirmed", "2021-05-05")).ToJsonString());
        File.WriteAllText(Path.Combine(dir, "site-b.json"), Bundle(
            Patient("b3", "MRN-B3", "Ignatius", "Fairweather"), Lab("b3-1", "b3", "59261-8", 50, "mmol/mol", "2021-02-01"), Lab("b3-2", "b3", "59261-8", 53, "mmol/mol", "2021-06-01"),
            Condition("b3-c", "b3", "E11", "provisional", "2021-02-01"), Imaging("b3-is", "b3", "2.25.1003", "2021-03-01", "CT"),
            Patient("b4", "MRN-B4", "Hortensia", "Blackwood"), Lab("b4-1", "b4", "59261-8", 46, "mmol/mol", "2021-02-01"), Lab("b4-2", "b4", "59261-8", 47, "mmol/mol", "2021-03-03"),
            Condition("b4-c", "b4", "E11.9", "confirmed", "2021-02-01")).ToJsonString());
        Db = Temp.OpenDb();
        var r = Db.Ingest([dir]);
        Assert.Empty(r.Errors);
    }

    public static readonly string[] Names = ["Zebulon", "Quentin", "Xanthippe", "Ormsby", "Wilhelmina", "Pettigrew", "Ignatius", "Fairweather", "Hortensia", "Blackwood", "MRN-", "Nowhere Lane", "1970-06-15"];

    /// <summary>The pseudonym of the patient with this HbA1c value (read straight from the events table, not through cohorts).</summary>
    public string Pseudo(double hba1c)
    {
        using var c = new SqliteConnection($"Data Source={Path.Combine(Db.Directory, "casebook.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT patient_pseudo_id FROM patient_events WHERE type = 'observation' AND value = @v";
        cmd.Parameters.AddWithValue("@v", hba1c);
        return (string)cmd.ExecuteScalar()!;
    }

    static JsonObject Patient(string id, string mrn, string given, string family) => new()
    {
        ["resourceType"] = "Patient", ["id"] = id,
        ["identifier"] = new JsonArray(new JsonObject
        {
            ["type"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/v2-0203", ["code"] = "MR" }) },
            ["system"] = "urn:test:hospital", ["value"] = mrn,
        }),
        ["name"] = new JsonArray(new JsonObject { ["family"] = family, ["given"] = new JsonArray(given) }),
        ["gender"] = "female", ["birthDate"] = "1970-06-15",
        ["address"] = new JsonArray(new JsonObject { ["line"] = new JsonArray("17 Nowhere Lane"), ["city"] = "Smalltown" }),
    };

    static JsonObject Lab(string id, string patient, string loinc, double value, string unit, string time) => new()
    {
        ["resourceType"] = "Observation", ["id"] = id, ["status"] = "final",
        ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://loinc.org", ["code"] = loinc, ["display"] = "Hemoglobin A1c" }) },
        ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
        ["effectiveDateTime"] = time,
        ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit, ["system"] = "http://unitsofmeasure.org", ["code"] = unit },
    };

    static JsonObject Condition(string id, string patient, string icd, string verification, string onset) => new()
    {
        ["resourceType"] = "Condition", ["id"] = id,
        ["clinicalStatus"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/condition-clinical", ["code"] = "active" }) },
        ["verificationStatus"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/condition-ver-status", ["code"] = verification }) },
        ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://hl7.org/fhir/sid/icd-10-cm", ["code"] = icd }) },
        ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
        ["onsetDateTime"] = onset,
    };

    static JsonObject Imaging(string id, string patient, string uid, string started, string modality) => new()
    {
        ["resourceType"] = "ImagingStudy", ["id"] = id, ["status"] = "available", ["started"] = started,
        ["identifier"] = new JsonArray(new JsonObject { ["system"] = "urn:dicom:uid", ["value"] = "urn:oid:" + uid }),
        ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
        ["series"] = new JsonArray(new JsonObject { ["uid"] = uid + ".1", ["modality"] = new JsonObject { ["system"] = "http://dicom.nema.org/resources/ontology/DCM", ["code"] = modality } }),
    };

    static JsonObject Bundle(params JsonObject[] resources) => new()
    {
        ["resourceType"] = "Bundle", ["type"] = "collection",
        ["entry"] = new JsonArray(resources.Select(r => (JsonNode)new JsonObject { ["fullUrl"] = $"urn:uuid:{r["id"]}", ["resource"] = r }).ToArray()),
    };

    public void Dispose() { Db.Dispose(); Temp.Dispose(); }
}

public class CohortTests(CohortFixture f) : IClassFixture<CohortFixture>
{
    const string TwoA1cInAYear = """{"lab":{"code":["4548-4","59261-8"],"comparator":">=","value":6.5,"unit":"%","count":2,"within_days":365}}""";

    CohortResult Run(string criteria) => f.Db.RunCohort(CohortDefinition.Parse($$"""{"criteria":{{criteria}}}"""));

    [Fact]
    public void Two_HbA1c_at_or_above_6_5_percent_within_a_year_across_percent_and_mmol_per_mol_sites()
    {
        var r = Run(TwoA1cInAYear);
        Assert.Equal(new[] { f.Pseudo(6.7), f.Pseudo(50) }.Order(), r.Patients.Order());
        // The same threshold written in IFCC units selects the same patients (6.5 % = 47.5 mmol/mol).
        var ifcc = Run("""{"lab":{"code":["4548-4","59261-8"],"comparator":">=","value":47.5,"unit":"mmol/mol","count":2,"within_days":365}}""");
        Assert.Equal(r.Patients, ifcc.Patients);
        // Widening the window to two years brings in A2 (730 days apart); one result suffices for A5.
        Assert.Contains(f.Pseudo(6.6), Run(TwoA1cInAYear.Replace("365", "731")).Patients);
        Assert.Contains(f.Pseudo(7.0), Run("""{"lab":{"code":"4548-4","comparator":">=","value":6.5,"unit":"%"}}""").Patients);
        Assert.DoesNotContain(f.Pseudo(46), Run("""{"lab":{"code":"59261-8","comparator":">=","value":6.5,"unit":"%"}}""").Patients);
    }

    [Fact]
    public void Icd10_prefix_matches_its_descendants_and_refuted_or_provisional_conditions_do_not_count()
    {
        var e11 = Run("""{"code":{"system":"icd10cm","code":"E11"}}""");
        Assert.Equal(new[] { f.Pseudo(6.7), f.Pseudo(46) }.Order(), e11.Patients.Order()); // E11.9 ×2; E11.65 refuted; E11 provisional
        var withProvisional = Run("""{"code":{"system":"icd10cm","code":"E11","statuses":["confirmed","provisional"]}}""");
        Assert.Equal(3, withProvisional.Patients.Count);
        Assert.Empty(Run("""{"code":{"system":"icd10cm","code":"E1"}}""").Patients); // never across categories
        Assert.Empty(Run("""{"code":{"system":"icd10cm","code":"E11.6"}}""").Patients); // E11.65 is refuted
        // Date ranges apply to the (shifted) onset: from B4's onset day on, B4 counts; up to the day before, it does not.
        var onset = DateOnly.Parse(f.Db.PatientEvents(f.Pseudo(46)).Single(e => e.Type == "condition").Time![..10]);
        Assert.Contains(f.Pseudo(46), Run($$$"""{"code":{"code":"E11.9","from":"{{{onset:yyyy-MM-dd}}}"}}""").Patients);
        Assert.DoesNotContain(f.Pseudo(46), Run($$$"""{"code":{"code":"E11.9","to":"{{{onset.AddDays(-1):yyyy-MM-dd}}}"}}""").Patients);
        // Combined: the lab window AND the code → A1 only; NOT removes them from everyone.
        var both = Run($$$"""{"all":[{{{TwoA1cInAYear}}},{"code":{"code":"E11"}}]}""");
        Assert.Equal([f.Pseudo(6.7)], both.Patients);
        var studies = both.Studies.Select(s => s.PatientPseudoId).Distinct().ToList();
        Assert.Equal([f.Pseudo(6.7)], studies);
        var neither = Run($$$"""{"not":{"any":[{{{TwoA1cInAYear}}},{"code":{"code":"E11"}}]}}""");
        Assert.Equal(new[] { f.Pseudo(6.6), f.Pseudo(7.0) }.Order(), neither.Patients.Order());
        // Study-level criteria in the top-level conjunction pick the studies listed.
        var ct = Run("""{"all":[{"code":{"code":"E11","statuses":["confirmed","provisional"]}},{"modality":"CT"}]}""");
        Assert.Equal(2, ct.Patients.Count);
        Assert.Equal(2, ct.Studies.Count);
    }

    [Fact]
    public void Definitions_are_saved_as_versions_and_rerun_at_their_data_version()
    {
        var def = CohortDefinition.Parse($$"""{"criteria":{{TwoA1cInAYear}}}""");
        var v1 = f.Db.SaveCohort("diabetes-labs-" + Guid.NewGuid().ToString("N")[..6], def, "alice");
        var v2 = f.Db.SaveCohort(v1.Name, CohortDefinition.Parse("""{"criteria":{"code":{"code":"E11"}}}"""), "bob");
        Assert.Equal((1, 2), (v1.Version, v2.Version));
        Assert.Equal("alice", f.Db.GetCohort(v1.Name + "@1")!.Author);
        Assert.Equal("bob", f.Db.GetCohort(v1.Name)!.Author);
        Assert.Equal(2, f.Db.ListCohorts(v1.Name).Count);
        var saved = f.Db.GetCohort(v1.Name + "@1")!;
        var first = f.Db.RunCohort(saved.Parse(), saved.DataVersion);
        Assert.Equal(Run(TwoA1cInAYear).Patients, first.Patients);
        Assert.Throws<ArgumentException>(() => f.Db.RunCohort(def, asOf: 999_999));
    }

    [Theory]
    [InlineData("""{"criteria":{"lab":{"code":"4548-4","comparator":"=>","value":6.5,"unit":"%"}}}""", "criteria.lab.comparator")]
    [InlineData("""{"criteria":{"lab":{"code":"4548-4","comparator":">=","value":6.5,"unit":"furlongs"}}}""", "criteria.lab.unit")]
    [InlineData("""{"criteria":{"lab":{"code":"4548-4","comparator":">=","value":"high","unit":"%"}}}""", "criteria.lab.value")]
    [InlineData("""{"criteria":{"all":[{"code":{"code":"E11'; DROP TABLE studies; --"}}]}}""", "criteria.all[0].code.code")]
    [InlineData("""{"criteria":{"all":[{"code":{"code":"E11","system":"icd9"}}]}}""", "criteria.all[0].code.system")]
    [InlineData("""{"criteria":{"code":{"code":"E11","statuses":["refuted"]}}}""", "criteria.code.statuses")]
    [InlineData("""{"criteria":{"any":[]}}""", "criteria.any")]
    [InlineData("""{"criteria":{"diagnosis":"E11"}}""", "criteria.diagnosis")]
    [InlineData("""{"criteria":{"exam_date":{"from":"2020-13-01"}}}""", "criteria.exam_date.from")]
    [InlineData("""{"criteria":{"age":{"min":61,"max":63}}}""", "criteria.age")]
    [InlineData("""{"criterion":{"sex":"F"}}""", "criterion")]
    [InlineData("""{"criteria":{"sex":"F","modality":"CT"}}""", "criteria")]
    [InlineData("""{"criteria":{"finding":"  "}}""", "criteria.finding")]
    [InlineData("""{"criteria":{"modality":[]}}""", "criteria.modality")]
    [InlineData("""{"criteria":{"lab":{"code":"4548-4","comparator":">=","value":6.5,"unit":"%","count":0}}}""", "criteria.lab.count")]
    [InlineData("""{"criteria":{"exam_date":{"from":"2021-01-01","to":"2020-01-01"}}}""", "criteria.exam_date")]
    [InlineData("[1,2]", "(root)")]
    [InlineData("{\"criteria\":", "(json)")]
    public void Invalid_definitions_name_the_field(string json, string field)
    {
        var e = Assert.Throws<CohortDefinitionException>(() => CohortDefinition.Parse(json));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Deeply_nested_definitions_are_refused()
    {
        var json = string.Concat(Enumerable.Repeat("{\"not\":", 40)) + "{\"sex\":\"F\"}" + new string('}', 40);
        Assert.Throws<CohortDefinitionException>(() => CohortDefinition.Parse($$"""{"criteria":{{json}}}"""));
    }

    [Fact]
    public void Exports_hold_pseudonyms_only_no_names_or_identifiers()
    {
        var r = Run("""{"code":{"code":"E11","statuses":["confirmed","provisional"]}}""");
        Assert.Equal(3, r.Patients.Count);
        using var tmp = new TempDirectory();
        foreach (var format in CohortExporter.Formats)
        {
            var path = tmp["cohort." + format];
            var e = CohortExporter.Export(f.Db, r, format, path, CohortRoles.Clinician, allowSensitive: false);
            Assert.Equal(r.Studies.Count, e.Studies);
            var text = format == "parquet" ? ParquetText(path) : File.ReadAllText(path);
            foreach (var n in CohortFixture.Names) Assert.DoesNotContain(n, text, StringComparison.OrdinalIgnoreCase);
            foreach (var (_, p) in r.Studies) Assert.Contains(p, text);
            if (format == "fhir")
            {
                var bundle = JsonNode.Parse(text)!;
                var resources = bundle["entry"]!.AsArray().Select(x => x!["resource"]!).ToList();
                var patients = resources.Where(x => (string?)x["resourceType"] == "Patient").ToList();
                Assert.Equal(3, patients.Count);
                Assert.All(patients, p => { Assert.Null(p["name"]); Assert.Null(p["identifier"]); Assert.Null(p["birthDate"]); Assert.Null(p["address"]); });
                Assert.Contains(resources, x => (string?)x["resourceType"] == "Observation" && x["valueQuantity"]?["unit"]?.ToString() == "mmol/mol");
                Assert.DoesNotContain(resources, x => (string?)x["resourceType"] == "Condition" && x["verificationStatus"]?.ToJsonString().Contains("refuted") == true);
            }
        }
    }

    /// <summary>Every cell of a Parquet file as text, read by DuckDB (an independent reader).</summary>
    static string ParquetText(string path)
    {
        using var conn = new DuckDBConnection("Data Source=:memory:");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT * FROM read_parquet('{path.Replace("'", "''")}')";
        using var reader = cmd.ExecuteReader();
        var sb = new System.Text.StringBuilder();
        while (reader.Read())
            for (var i = 0; i < reader.FieldCount; i++)
                if (!reader.IsDBNull(i) && reader.GetValue(i) is string s) sb.Append(s).Append('\n');
        return sb.ToString();
    }

    static (List<object?> Audio, List<object?> Image, List<string> Ids) ParquetBlobs(string path)
    {
        using var conn = new DuckDBConnection("Data Source=:memory:");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT study_id, dictation_audio, dicom_image FROM read_parquet('{path.Replace("'", "''")}') ORDER BY study_id";
        using var reader = cmd.ExecuteReader();
        var (audio, image, ids) = (new List<object?>(), new List<object?>(), new List<string>());
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
            audio.Add(reader.IsDBNull(1) ? null : reader.GetValue(1));
            image.Add(reader.IsDBNull(2) ? null : reader.GetValue(2));
        }
        return (audio, image, ids);
    }

    [Fact]
    public void Researcher_sees_small_counts_as_under_11_and_exports_leave_out_audio_and_burned_in_images()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        // 12 patients with J90 on a study; every study has dictation audio; odd ones are flagged for burned-in text.
        var b = new WriteBatch();
        for (var i = 1; i <= 12; i++)
        {
            var s = StudyFactory.Full(db, $"S{i:00}", patient: $"p{i:00}", seed: i);
            if (i % 2 == 1) s.Metadata["burned_in_annotation"] = new JsonObject { ["header"] = i == 1, ["ocr"] = "checked", ["ocr_text_found"] = i != 1 };
            else s.Metadata["burned_in_annotation"] = new JsonObject { ["header"] = false, ["ocr"] = "checked", ["ocr_text_found"] = false };
            if (i <= 3) s.Modality = "US";
            b.Upserts.Add(s);
        }
        db.Commit(b, "cohort test studies");

        var small = db.RunCohort(CohortDefinition.Parse("""{"criteria":{"all":[{"code":{"code":"J90"}},{"modality":"US"}]}}"""));
        Assert.Equal(3, small.Patients.Count);
        var json = CohortCommands.ResultJson(small, CohortRoles.Researcher);
        Assert.Equal("<11", (string?)json["patients"]!["count"]);
        Assert.Null(json["patients"]!["ids"]);
        Assert.Null(json["studies"]!["ids"]);
        Assert.Equal(3, (int)CohortCommands.ResultJson(small, CohortRoles.Clinician)["patients"]!["count"]!);
        Assert.Throws<UnauthorizedAccessException>(() => CohortExporter.Export(db, small, "csv", tmp["small.csv"], CohortRoles.Researcher, false));

        var all = db.RunCohort(CohortDefinition.Parse("""{"criteria":{"code":{"code":"J90"}}}"""));
        Assert.Equal(12, (int)CohortCommands.ResultJson(all, CohortRoles.Researcher)["patients"]!["count"]!);
        var e = CohortExporter.Export(db, all, "parquet", tmp["r.parquet"], CohortRoles.Researcher, allowSensitive: false);
        Assert.Equal((12, 6), (e.AudioLeftOut, e.ImagesLeftOut));
        var (audio, image, ids) = ParquetBlobs(tmp["r.parquet"]);
        Assert.Equal(12, ids.Count);
        Assert.All(audio, Assert.Null);
        for (var i = 0; i < 12; i++)
            if ((i + 1) % 2 == 1) Assert.Null(image[i]); else Assert.NotNull(image[i]);
        var csv = File.ReadAllLines(CohortExporter.Export(db, all, "csv", tmp["r.csv"], CohortRoles.Researcher, false).Path);
        Assert.Equal(13, csv.Length);
        Assert.EndsWith(",false", csv.Single(l => l.StartsWith("S01,")));
        Assert.EndsWith(",true", csv.Single(l => l.StartsWith("S02,")));

        // Only an admin may let sensitive content out.
        Assert.Throws<UnauthorizedAccessException>(() => CohortExporter.Export(db, all, "parquet", tmp["x.parquet"], CohortRoles.Researcher, allowSensitive: true));
        var admin = CohortExporter.Export(db, all, "parquet", tmp["a.parquet"], CohortRoles.Admin, allowSensitive: true);
        Assert.Equal((0, 0), (admin.AudioLeftOut, admin.ImagesLeftOut));
        var (adminAudio, adminImage, _) = ParquetBlobs(tmp["a.parquet"]);
        Assert.All(adminAudio, Assert.NotNull);
        Assert.All(adminImage, Assert.NotNull);
    }

    [Fact]
    public void Affirmed_findings_demographics_and_validation_status_select_studies()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var b = new WriteBatch();
        var s1 = StudyFactory.Full(db, "F1", patient: "q1");
        s1.PathologyFindings = new JsonArray(new JsonObject { ["term"] = "pneumothorax", ["negated"] = false, ["affirmed"] = true, ["validated"] = true });
        var s2 = StudyFactory.Full(db, "F2", patient: "q2");
        s2.PathologyFindings = new JsonArray(new JsonObject { ["term"] = "pneumothorax", ["negated"] = true, ["affirmed"] = false });
        var s3 = StudyFactory.Full(db, "F3", patient: "q3");
        s3.PathologyFindings = new JsonArray(new JsonObject { ["term"] = "pneumothorax", ["negated"] = false, ["uncertain"] = true, ["affirmed"] = false }); // rule-out
        s3.Metadata["sex"] = "M";
        s3.Metadata["age_band"] = "30-34";
        b.Upserts.AddRange([s1, s2, s3]);
        db.Commit(b, "findings");
        CohortResult R(string c) => db.RunCohort(CohortDefinition.Parse($$"""{"criteria":{{c}}}"""));
        Assert.Equal(["q1"], R("""{"finding":"Pneumothorax"}""").Patients);
        Assert.Equal(["q1"], R("""{"validated":true}""").Patients);
        Assert.Equal(["q3"], R("""{"all":[{"sex":"male"},{"age":{"min":30,"max":39}}]}""").Patients);
        Assert.Equal(["q1", "q2"], R("""{"age":{"min":60,"max":64}}""").Patients);
        Assert.Equal(["q1", "q2", "q3"], R("""{"exam_date":{"from":"2024-01-01","to":"2024-03-01"}}""").Patients);
        Assert.Empty(R("""{"exam_date":{"to":"2024-02-29"}}""").Patients);
    }

    [Fact]
    public void Cli_runs_saves_lists_and_exports_with_the_contract_json()
    {
        using var tmp = new TempDirectory();
        var def = tmp["def.json"];
        File.WriteAllText(def, $$"""{"name":"a1c","criteria":{{TwoA1cInAYear}}}""");
        var dbDir = f.Db.Directory;
        var outw = new StringWriter();
        Assert.Equal(0, CohortCommands.Run(["run", def, "--db", dbDir, "--role", "researcher", "--json"], outw));
        var o = JsonNode.Parse(outw.ToString())!;
        Assert.Equal("<11", (string?)o["patients"]!["count"]);
        Assert.Equal("a1c", (string?)o["name"]);
        outw = new StringWriter();
        Assert.Equal(0, CohortCommands.Run(["run", def, "--db", dbDir, "--json"], outw));
        Assert.Equal(2, JsonNode.Parse(outw.ToString())!["patients"]!["ids"]!.AsArray().Count);
        var name = "cli-" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(0, CohortCommands.Run(["save", def, "--name", name, "--author", "carol", "--db", dbDir], new StringWriter()));
        outw = new StringWriter();
        Assert.Equal(0, CohortCommands.Run(["list", "--db", dbDir, "--json"], outw));
        Assert.Contains(JsonNode.Parse(outw.ToString())!["cohorts"]!.AsArray(), c => (string?)c!["name"] == name && (string?)c["author"] == "carol");
        Assert.Equal(0, CohortCommands.Run(["export", name, "--format", "fhir", "--out", tmp["b.json"], "--db", dbDir], new StringWriter()));
        Assert.Equal("Bundle", (string?)JsonNode.Parse(File.ReadAllText(tmp["b.json"]))!["resourceType"]);
        File.WriteAllText(def, """{"criteria":{"lab":{"code":"4548-4","comparator":">=","value":6.5,"unit":"%","within_days":-1}}}""");
        var ex = Assert.Throws<ArgumentException>(() => CohortCommands.Run(["run", def, "--db", dbDir, "--json"], new StringWriter()));
        Assert.Contains("criteria.lab.within_days", ex.Message);
        Assert.Contains("def.json", ex.Message);
    }
}
