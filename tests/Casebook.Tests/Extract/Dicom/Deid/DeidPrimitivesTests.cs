using Casebook.Cli;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;

namespace Casebook.Tests.Extract.Dicom.Deid;

/// <summary>The pieces the de-identifier is built from: date shift, UID remapping, profile table, safe-list parsing, scrubbing, CLI.</summary>
public sealed class DeidPrimitivesTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly PatientPseudonym _key;

    public DeidPrimitivesTests()
    {
        File.WriteAllText(_dir.KeyFile, "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n");
        _key = PatientPseudonym.Load(_dir.KeyFile);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Date_shift_is_per_patient_within_a_year_before_and_depends_on_the_key()
    {
        var shifts = Enumerable.Range(0, 200).Select(i => DateShift.ForPatient(_key, "local", "P" + i).Days).ToList();
        Assert.All(shifts, d => Assert.InRange(d, -365, -1));
        Assert.True(shifts.Distinct().Count() > 100, "shifts spread over the range");
        Assert.Equal(DateShift.ForPatient(_key, "local", "P7"), DateShift.ForPatient(_key, "local", "P7"));
        Assert.NotEqual(DateShift.ForPatient(_key, "local", "P7"), DateShift.ForPatient(_key, "other-hospital", "P7"));

        var otherKey = _dir["other.key"];
        File.WriteAllText(otherKey, "0123456789abcdef0123456789abcdef\n");
        var a = Enumerable.Range(0, 20).Select(i => DateShift.ForPatient(_key, "local", "P" + i).Days);
        var b = Enumerable.Range(0, 20).Select(i => DateShift.ForPatient(PatientPseudonym.Load(otherKey), "local", "P" + i).Days);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Date_shift_moves_DA_and_DT_values_and_keeps_precision()
    {
        var s = new DateShift(-10);
        Assert.Equal("20240122", s.ShiftDA("20240201"));
        Assert.Equal("20240122", s.ShiftDA("2024.02.01")); // retired ACR-NEMA form
        Assert.Null(s.ShiftDA("garbage"));
        Assert.Equal("20240122101112.5+0100", s.ShiftDT("20240201101112.5+0100"));
        Assert.Equal("202312", s.ShiftDT("202401")); // month precision: the month of the shifted first day
        Assert.Equal("20240122\\20240123", s.ShiftValues("20240201\\20240202 ", dateTime: false));
        Assert.Equal("20240122-20240222", s.ShiftValues("20240201-20240303", dateTime: false));
    }

    [Fact]
    public void Uids_are_remapped_deterministically_under_2_25_and_fit_the_UI_length()
    {
        var r = new UidRemapper(_key);
        var a = r.Remap("1.2.840.113619.2.1.1.322987881.621.736170080.681");
        Assert.Matches(@"^2\.25\.(0|[1-9]\d*)$", a);
        Assert.True(a.Length <= 64);
        Assert.Equal(a, r.Remap("1.2.840.113619.2.1.1.322987881.621.736170080.681\0"));
        Assert.NotEqual(a, r.Remap("1.2.840.113619.2.1.1.322987881.621.736170080.682"));
        Assert.NotEqual(a, new UidRemapper(PatientPseudonym.Load(WriteKey("00000000000000000000000000000001"))).Remap("1.2.840.113619.2.1.1.322987881.621.736170080.681"));
    }

    string WriteKey(string hex) { var p = _dir[Guid.NewGuid().ToString("N") + ".key"]; File.WriteAllText(p, hex); return p; }

    [Fact]
    public void Profile_table_has_the_rows_the_standard_names()
    {
        Assert.True(ConfidentialityProfile.All.Count >= 450);
        DeidAction Basic(uint tag) => ConfidentialityProfile.Resolve(ConfidentialityProfile.Lookup(new DicomTag(tag))!, new DeidOptions { RetainLongitudinalModifiedDates = false, CleanDescriptors = false });
        Assert.Equal(DeidAction.Empty, Basic(0x00100010));      // Patient's Name: Z
        Assert.Equal(DeidAction.Empty, Basic(0x00100030));      // Patient's Birth Date: Z
        Assert.Equal(DeidAction.Remove, Basic(0x00101000));     // Other Patient IDs: X
        Assert.Equal(DeidAction.Empty, Basic(0x00080080));      // Institution Name: X/Z/D
        Assert.Equal(DeidAction.ReplaceUid, Basic(0x0020000D)); // Study Instance UID: U
        Assert.Equal(DeidAction.Remove, Basic(0x60003000));     // Overlay Data (60xx,3000): X
        Assert.Equal(DeidAction.Remove, Basic(0x50020010));     // Curve Data (50xx,xxxx): X
        Assert.Equal(DeidAction.Keep, Basic(0x00081140));       // Referenced Image Sequence: X/Z/U* → kept, UIDs inside replaced
        Assert.Equal(DeidAction.Clean, ConfidentialityProfile.Resolve(ConfidentialityProfile.Lookup(new DicomTag(0x00080020))!, DeidOptions.Default)); // Study Date under modified dates
        Assert.Equal(DeidAction.Keep, ConfidentialityProfile.Resolve(ConfidentialityProfile.Lookup(new DicomTag(0x00081010))!, new DeidOptions { RetainDeviceIdentity = true }));
        Assert.Null(ConfidentialityProfile.Lookup(new DicomTag(0x00280010))); // Rows: not in the table, kept
        Assert.Equal(DeidAction.Remove, Basic(0x00100033));     // Casebook addition: birth date in an alternative calendar
    }

    [Fact]
    public void Safe_private_tags_parse_with_and_without_a_creator()
    {
        Assert.Equal(new SafePrivateTag(0x0019, 0x100A), SafePrivateTag.Parse("(0019,100A)"));
        Assert.Equal(new SafePrivateTag(0x0019, 0x100A), SafePrivateTag.Parse("0019100a"));
        Assert.Equal(new SafePrivateTag(0x0043, 0x000A, "GEMS_PARM_01"), SafePrivateTag.Parse("GEMS_PARM_01/0043,xx0A"));
        Assert.Throws<FormatException>(() => SafePrivateTag.Parse("0010,0010"));
        Assert.True(SafePrivateTag.Parse("GEMS_PARM_01/0043,xx0A").Matches(new DicomTag(0x0043120A), "GEMS_PARM_01 "));
        Assert.False(SafePrivateTag.Parse("GEMS_PARM_01/0043,xx0A").Matches(new DicomTag(0x0043120A), "SIEMENS"));
    }

    [Fact]
    public void Cli_writes_the_deidentified_file_and_never_a_database()
    {
        var input = SharedData.Require("dicom/pydicom/MR_small.dcm");
        var output = _dir["out.dcm"];
        var before = Directory.GetFileSystemEntries(_dir.Path).Length;
        var code = DeidCommands.Run([input, output, "--key-file", _dir.KeyFile, "--issuer", "hospital-a", "--retain-device"]);
        Assert.Equal(0, code);
        var dump = DcmDump.Run(output);
        Assert.Contains("113109", dump);
        Assert.Equal(before + 1, Directory.GetFileSystemEntries(_dir.Path).Length); // only OUT was created
        Assert.False(File.Exists(_dir["casebook.db"]));
        using var original = DicomFile.Open(input);
        var pid = original.Dataset.GetString(DicomTag.PatientID)!;
        Assert.Contains("[" + _key.Pseudonymise("hospital-a", pid) + "]", dump);

        Assert.Equal(1, DeidCommands.Run([input])); // usage
        Assert.Equal(2, DeidCommands.Run([_dir["missing.dcm"], output, "--key-file", _dir.KeyFile]));
        Assert.Equal(2, DeidCommands.Run([SharedData.Require("dicom/pydicom/MR_truncated.dcm"), _dir["t.dcm"], "--key-file", _dir.KeyFile]));
        Assert.False(File.Exists(_dir["t.dcm"]));
    }

    [Fact]
    public void Descriptor_scrubber_removes_identifiers_and_number_patterns()
    {
        using var f = DicomFile.Open(SharedData.Require("dicom/fodicom/GH538-jpeg1.dcm")); // John^Doe, 123-45-6789
        var s = DescriptorScrubber.From(f.Dataset);
        Assert.Equal("CT head for *, *", s.Scrub("CT head for John, 123-45-6789"));
        Assert.Equal("Follow-up *", s.Scrub("Follow-up 2019-03-04"));
        Assert.Equal("CHEST PA", s.Scrub("CHEST PA"));
    }
}
