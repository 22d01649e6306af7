using System.Text.Json.Nodes;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest.Fhir;
using Casebook.Storage;
using Casebook.Tests.Storage;
using Casebook.Timeline;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Timeline;

public class TimelineTests
{
    [Theory]
    [InlineData("2019", -10, "2018", "year")]           // a year shifts its first day (2019-01-01 → 2018-12-22) and stays a year
    [InlineData("2019-03", -10, "2019-02", "month")]
    [InlineData("2019-03-15", -10, "2019-03-05", "day")]
    [InlineData("2019-03-15T23:30:00+05:00", -10, "2019-03-05T23:30:00+05:00", "time")]
    [InlineData("2019-03-15T23:30:00.123Z", -365, "2018-03-15T23:30:00.123Z", "time")]
    public void Fhir_times_shift_by_whole_days_and_keep_their_precision(string raw, int days, string shifted, string precision)
    {
        var t = FhirTime.Shift(raw, new DateShift(days))!;
        Assert.Equal(shifted, t.Value);
        Assert.Equal(precision, t.Precision);
    }

    [Theory]
    [InlineData("2019-13-01")]
    [InlineData("2019-02-30")]
    [InlineData("yesterday")]
    [InlineData("")]
    public void Non_dates_are_not_guessed(string raw) => Assert.Null(FhirTime.Shift(raw, new DateShift(-3)));

    [Fact]
    public void HbA1c_master_equation_round_trips_and_plain_ucum_units_canonicalise()
    {
        Assert.Equal(48.0, LabUnits.NgspToIfcc(6.543), 1);
        Assert.Equal(7.0, LabUnits.IfccToNgsp(LabUnits.NgspToIfcc(7.0)), 9);
        var a = LabUnits.Canonical(200, "mg/dL")!.Value;
        var b = LabUnits.Canonical(2, "g/L")!.Value;
        Assert.Equal(a.Unit, b.Unit);
        Assert.Equal(a.Value, b.Value, 6);
        Assert.Null(LabUnits.Canonical(1, "furlongs-per-fortnight"));
        Assert.Null(LabUnits.Canonical(1, null));
    }

    [Fact]
    public void Events_are_versioned_and_a_changed_event_makes_a_new_row()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        TimelineEvent Ev(string status) => new() { EventId = "Condition/1", PatientPseudoId = "p", Type = EventType.Condition, Source = "Condition/1", Status = status, Time = "2020-01-01", SortTime = "2020-01-01T00:00:00Z", Display = "Pneumonia" };
        var v1 = db.CommitEvents([Ev("provisional")], "first");
        Assert.Equal(1, v1.Inserted);
        Assert.Null(db.CommitEvents([Ev("provisional")], "same").Version); // unchanged: no version
        var v2 = db.CommitEvents([Ev("refuted")], "refuted");
        Assert.Equal(1, v2.Updated);
        Assert.Equal("refuted", Assert.Single(db.PatientEvents("p")).Status);
        Assert.Equal("provisional", Assert.Single(db.PatientEvents("p", asOf: v1.Version)).Status);
        // A refuted condition is marked negated, so filters skip it.
        Assert.True(Assert.Single(db.PatientEvents("p")).ToJson()["negated"]!.GetValue<bool>());
    }

    [Fact]
    public void Purging_a_patient_erases_their_events_and_a_study_purge_keeps_them()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var b = new WriteBatch();
        b.Upserts.Add(StudyFactory.Full(db, "S1", patient: "p1"));
        b.Upserts.Add(StudyFactory.Full(db, "S2", patient: "p1"));
        db.Commit(b, "studies");
        db.CommitEvents([
            new TimelineEvent { EventId = "a", PatientPseudoId = "p1", Type = EventType.Procedure, Source = "Procedure/a" },
            new TimelineEvent { EventId = "b", PatientPseudoId = "p2", Type = EventType.Procedure, Source = "Procedure/b" }], "events");
        db.PurgeStudy("S1");
        Assert.Single(db.PatientEvents("p1"));
        db.PurgePatient("p1");
        Assert.Empty(db.PatientEvents("p1"));
        Assert.Single(db.PatientEvents("p2")); // other patients untouched
    }

    [Fact]
    public void A_format_3_database_upgrades_to_format_4_with_an_empty_events_table()
    {
        using var tmp = new TempDirectory();
        using (var db = tmp.OpenDb())
        {
            var b = new WriteBatch();
            b.Upserts.Add(StudyFactory.Full(db, "S1"));
            db.Commit(b, "format 3 content");
        }
        // Turn the directory back into format 3 as older Casebook wrote it: no patient_events table.
        using (var c = new SqliteConnection($"Data Source={tmp["db/casebook.db"]};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE patient_events; UPDATE meta SET value = '3' WHERE key = 'format_version';";
            cmd.ExecuteNonQuery();
        }
        using (var db = tmp.OpenDb())
        {
            Assert.Equal("FINDINGS: small left pleural effusion.", db.GetStudy("S1")!.ReportText);
            Assert.Equal(0, db.CountEvents());
            db.CommitEvents([new TimelineEvent { EventId = "e", PatientPseudoId = "p1", Type = EventType.Procedure, Source = "Procedure/x" }], "after upgrade");
            Assert.Equal(1, db.CountEvents());
        }
        using var check = new SqliteConnection($"Data Source={tmp["db/casebook.db"]};Pooling=False");
        check.Open();
        using var q = check.CreateCommand();
        q.CommandText = "SELECT value FROM meta WHERE key = 'format_version'";
        Assert.Equal("4", q.ExecuteScalar());
    }

    [Fact]
    public void Timeline_cli_prints_the_contract_json()
    {
        using var tmp = new TempDirectory();
        var bundle = SharedData.Require("fhir/synthea/Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json");
        var db = tmp["db"];
        var ingest = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(3), "ingest", bundle, "--db", db, "--json");
        Assert.True(ingest.Code == 0, ingest.Stderr);
        string id;
        using (var open = CasebookDb.Open(db, new CasebookOptions { KeyFile = tmp.KeyFile })) id = open.Studies(withSegments: false).First().StudyId;
        var run = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "timeline", id, "--db", db, "--json");
        Assert.True(run.Code == 0, run.Stderr);
        var json = JsonNode.Parse(run.Stdout)!.AsObject();
        Assert.Equal(["study_id", "events", "outcomes"], json.Select(kv => kv.Key));
        Assert.Equal(id, json["study_id"]!.GetValue<string>());
        var first = json["events"]!.AsArray()[0]!.AsObject();
        foreach (var k in new[] { "time", "type", "code_system", "code", "display", "abnormal", "source" }) Assert.True(first.ContainsKey(k), k);
        Assert.All(json["outcomes"]!.AsArray(), o => { Assert.NotNull(o!["kind"]); Assert.True(o["days_after"]!.GetValue<double>() >= 0); });
        var missing = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "timeline", "no-such-study", "--db", db, "--json");
        Assert.Equal(3, missing.Code);
        Assert.Contains("no-such-study", missing.Stderr);
    }
}
