using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;

namespace Casebook.Tests.Extract.Dicom.Deid;

/// <summary>
/// De-identification judged by dcmdump: for real files, nothing the profile removes or replaces survives in the
/// written output (at any depth), UIDs and date shifts are consistent per study and per patient, pixels are unchanged,
/// and the output re-reads with our reader.
/// </summary>
public sealed class DicomDeidentifierTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly PatientPseudonym _key;

    public DicomDeidentifierTests()
    {
        // A fixed key, so shifts and UIDs are reproducible across runs.
        File.WriteAllText(_dir.KeyFile, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        _key = PatientPseudonym.Load(_dir.KeyFile);
    }

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> RealFiles => new()
    {
        "pydicom/CT_small.dcm", "pydicom/MR_small.dcm", "pydicom/MR_small_bigendian.dcm", "pydicom/MR_small_implicit.dcm",
        "pydicom/MR_small_jp2klossless.dcm", "pydicom/MR_small_RLE.dcm", "pydicom/JPEG-lossy.dcm", "pydicom/image_dfl.dcm",
        "pydicom/nested_priv_SQ.dcm", "pydicom/priv_SQ.dcm", "pydicom/UN_sequence.dcm", "pydicom/rtplan.dcm", "pydicom/test-SR.dcm",
        "pydicom/examples_overlay.dcm",
        "fodicom/CR-MONO1-10-chest", "fodicom/CT-MONO2-16-ankle", "fodicom/GH184.dcm", "fodicom/GH610.dcm", "fodicom/JPEGwithIcon.dcm",
        "fodicom/GH538-jpeg1.dcm", "fodicom/MOVEKNEE.dcm", "fodicom/mr_brucker.dcm", "fodicom/D_CLUNIE_CT1_RLE_FRAGS.dcm",
        "wg04/RLE/US1_RLE", "wg04/J2KR/US1_J2KR", "wg04/JPLL/NM1_JPLL",
        "highdicom/ct_image.dcm", "highdicom/sr_document.dcm", "highdicom/sm_image.dcm", "highdicom/seg_image_ct_binary.dcm",
    };

    (DeidResult Result, string OutPath, string Dump) Deid(string relative, DeidOptions? options = null)
    {
        var input = SharedData.Require("dicom/" + relative);
        var output = _dir[relative.Replace('/', '_') + ".deid.dcm"];
        var result = new DicomDeidentifier(_key, options).DeidentifyFile(input, output);
        return (result, output, DcmDump.Run(output));
    }

    /// <summary>Every element of a dataset and its sequence items, depth first.</summary>
    static IEnumerable<DicomElement> All(DicomDataset ds)
    {
        foreach (var e in ds)
        {
            yield return e;
            if (e.Items != null) foreach (var item in e.Items) foreach (var x in All(item)) yield return x;
        }
    }

    [Theory]
    [MemberData(nameof(RealFiles))]
    public void Nothing_the_profile_removes_or_replaces_survives(string relative)
    {
        var (result, output, dump) = Deid(relative);
        using var original = DicomFile.Open(SharedData.Require("dicom/" + relative));
        var options = DeidOptions.Default;
        var printed = DcmDump.Tags(dump);

        foreach (var e in All(original.Dataset))
        {
            if ((e.Tag.Group & 1) == 1)
            {
                Assert.DoesNotContain(e.Tag.Value, printed); // default: every private attribute removed
                continue;
            }
            var row = ConfidentialityProfile.Lookup(e.Tag);
            if (row == null) continue;
            var action = ConfidentialityProfile.Resolve(row, options);
            switch (action)
            {
                case DeidAction.Remove:
                    Assert.False(printed.Contains(e.Tag.Value), $"{e.Tag} {row.Name} (X) is in the output");
                    break;
                case DeidAction.Empty when e.Tag != DicomTag.PatientID && e.Tag.Value != 0x00100010:
                    foreach (var v in DcmDump.Values(dump, e.Tag.Value))
                        Assert.True(v.Contains("(no value available)") || v.Contains("(Sequence with explicit length #=0)") || v.Contains("#=0"), $"{e.Tag} {row.Name} (Z) is not empty: {v}");
                    break;
                case DeidAction.ReplaceUid:
                    foreach (var uid in e.GetStrings().Where(u => u.Length > 0))
                        Assert.DoesNotContain("[" + uid + "]", dump);
                    break;
            }
        }

        // Identifying values, wherever they were, are not printed anywhere.
        foreach (var tag in new uint[] { 0x00100010, 0x00100020, 0x00100030, 0x00080080, 0x00080081, 0x00101000, 0x00101001, 0x00080090, 0x00081050, 0x00081070, 0x00080050, 0x00081010, 0x00181000 })
            foreach (var v in original.Dataset.GetStrings(new DicomTag(tag)).Where(v => v.Length >= 4 && v != "Anonymized"))
                Assert.DoesNotContain("[" + v + "]", dump);

        // Recorded per PS3.15 E.1.1 / PS3.3 C.7.1.1.
        Assert.Contains("[YES]", DcmDump.Values(dump, 0x00120062).Single());
        Assert.Contains("113100", dump);
        Assert.Contains("[" + result.Metadata.PatientPseudoId + "]", DcmDump.Values(dump, 0x00100020).Single());
        foreach (var v in DcmDump.Values(dump, 0x00100030)) Assert.Contains("(no value available)", v); // birth date: absent or empty

        // File meta: regenerated, SOP instance matches the remapped one, Casebook's implementation identity.
        if (result.Metadata.SopInstanceUid.Length > 0)
            Assert.Contains("[" + result.Metadata.SopInstanceUid + "]", DcmDump.Values(dump, 0x00020003).Single());
        Assert.Contains(DicomWriter.ImplementationClassUid, DcmDump.Values(dump, 0x00020012).Single());

        // Our own reader reads it back completely, in the transfer syntax we chose.
        using var back = DicomFile.Open(output, new DicomReadOptions { Strict = true });
        Assert.True(back.IsComplete);
        Assert.Equal(result.TransferSyntaxUid, back.TransferSyntax.Uid);
        Assert.Equal(result.Metadata.SopInstanceUid, back.Meta.GetString(DicomTag.MediaStorageSOPInstanceUID) ?? "");
        if (back.Dataset.Contains(DicomTag.SOPInstanceUID)) Assert.Equal(result.Metadata.SopInstanceUid, back.Dataset.GetString(DicomTag.SOPInstanceUID));
        if (original.Meta.GetString(DicomTag.MediaStorageSOPInstanceUID) is { Length: > 0 } oldInstance) Assert.DoesNotContain(oldInstance, dump);
        Assert.DoesNotContain(back.Warnings, w => !w.Contains("padding"));
    }

    [Theory]
    [MemberData(nameof(RealFiles))]
    public void Pixel_data_is_unchanged(string relative)
    {
        var (_, output, _) = Deid(relative);
        using var original = DicomFile.Open(SharedData.Require("dicom/" + relative));
        using var back = DicomFile.Open(output);
        var a = original.PixelData;
        var b = back.PixelData;
        if (a == null) { Assert.Null(b); return; }
        Assert.NotNull(b);
        if (a.Fragments != null)
        {
            Assert.Equal(original.TransferSyntax.Uid, back.TransferSyntax.Uid);
            Assert.Equal(a.Fragments.Fragments.Count, b!.Fragments!.Fragments.Count);
            for (var i = 0; i < a.Fragments.Fragments.Count; i++)
            {
                var fa = original.Source.Read(a.Fragments.Fragments[i].Offset, (int)a.Fragments.Fragments[i].Length).ToArray();
                var fb = back.Source.Read(b.Fragments.Fragments[i].Offset, (int)b.Fragments.Fragments[i].Length).ToArray();
                Assert.Equal(fa, fb);
            }
        }
        else if (a.BigEndian)
            Assert.Equal(a.GetDoubles(), b!.GetDoubles()); // same numbers, now little endian
        else
            Assert.True(a.RawValue.Span.SequenceEqual(b!.RawValue.Span), "native pixel bytes differ");
    }

    [Fact]
    public void Instances_of_one_study_keep_linking_and_a_patient_keeps_one_date_shift()
    {
        // CT_small, highdicom's ct_image and sr_document are one study of patient 1CT1; D_CLUNIE_CT1 is another study of that patient.
        var ct = Deid("pydicom/CT_small.dcm").Result.Metadata;
        var ct2 = Deid("highdicom/ct_image.dcm").Result.Metadata;
        var sr = Deid("highdicom/sr_document.dcm").Result.Metadata;
        var other = Deid("fodicom/D_CLUNIE_CT1_RLE_FRAGS.dcm").Result.Metadata;
        var mr = Deid("pydicom/MR_small.dcm").Result.Metadata;

        Assert.Equal(ct.StudyInstanceUid, ct2.StudyInstanceUid);
        Assert.Equal(ct.StudyInstanceUid, sr.StudyInstanceUid);
        Assert.NotEqual(ct.StudyInstanceUid, other.StudyInstanceUid);
        Assert.StartsWith("2.25.", ct.StudyInstanceUid);
        Assert.Equal(ct.PatientPseudoId, other.PatientPseudoId);
        Assert.Equal(ct.DateShiftDays, other.DateShiftDays);
        Assert.NotEqual(ct.DateShiftDays, mr.DateShiftDays);
        Assert.NotEqual(ct.PatientPseudoId, mr.PatientPseudoId);
        Assert.InRange(ct.DateShiftDays!.Value, -365, -1);
        Assert.Equal(DateShift.ForPatient(_key, StudyManifest.DefaultIssuer, "1CT1").Days, ct.DateShiftDays);

        // References keep pointing at the right (remapped) instance: the SR cites the CT image by its SOP Instance UID.
        var srOut = DicomFile.Open(_dir["highdicom_sr_document.dcm.deid.dcm"]);
        using (srOut)
        {
            var refs = All(srOut.Dataset).Where(e => e.Tag.Value == 0x00081155).Select(e => e.GetString()).ToList();
            Assert.Contains(ct2.SopInstanceUid, refs);
        }

        // The same file de-identified twice gives the same output UIDs (deterministic per key).
        Assert.Equal(ct.SopInstanceUid, Deid("pydicom/CT_small.dcm").Result.Metadata.SopInstanceUid);
    }

    [Fact]
    public void Dates_move_by_the_patients_shift_and_keep_their_intervals()
    {
        var (result, _, dump) = Deid("pydicom/CT_small.dcm");
        using var original = DicomFile.Open(SharedData.Require("dicom/pydicom/CT_small.dcm"));
        var shift = result.Metadata.DateShiftDays!.Value;
        foreach (var tag in new uint[] { 0x00080020, 0x00080021, 0x00080022, 0x00080023 })
        {
            var before = original.Dataset.GetString(new DicomTag(tag));
            if (before == null) continue;
            var expected = DateOnly.ParseExact(before, "yyyyMMdd").AddDays(shift).ToString("yyyyMMdd");
            Assert.Contains("[" + expected + "]", DcmDump.Values(dump, tag).Single());
            Assert.DoesNotContain("[" + before + "]", dump);
        }
        Assert.Contains("[MODIFIED]", DcmDump.Values(dump, 0x00280303).Single());
        Assert.Contains("113107", dump);
    }

    [Fact]
    public void Device_identity_is_kept_only_under_its_option()
    {
        var plain = Deid("fodicom/CT-MONO2-16-ankle");
        using var original = DicomFile.Open(SharedData.Require("dicom/fodicom/CT-MONO2-16-ankle"));
        var station = original.Dataset.GetString(new DicomTag(0x00081010));
        Assert.NotNull(station);
        Assert.DoesNotContain("[" + station + "]", plain.Dump);
        Assert.NotNull(plain.Result.Metadata.DeviceId);
        Assert.DoesNotContain(station!, plain.Result.Metadata.DeviceId!);

        var kept = Deid("fodicom/CT-MONO2-16-ankle", new DeidOptions { RetainDeviceIdentity = true });
        Assert.Contains("[" + station + "]", DcmDump.Values(kept.Dump, 0x00081010).Single());
        Assert.Contains("113109", kept.Dump);
        Assert.DoesNotContain("113109", plain.Dump);
    }

    [Fact]
    public void Safe_private_tags_are_kept_with_their_creator_and_the_rest_removed()
    {
        var path = SharedData.Require("dicom/pydicom/CT_small.dcm");
        using var original = DicomFile.Open(path);
        var privateData = original.Dataset.Where(e => e.Tag.IsPrivate && !e.Tag.IsPrivateCreator).ToList();
        Assert.True(privateData.Count >= 2, "test file needs private data elements");
        var keep = privateData[0].Tag;
        var (result, _, dump) = Deid("pydicom/CT_small.dcm", new DeidOptions { SafePrivateTags = [new SafePrivateTag(keep.Group, keep.Element)] });
        var tags = DcmDump.Tags(dump);
        Assert.Contains(keep.Value, tags);
        Assert.Contains(((uint)keep.Group << 16) | (uint)(keep.Element >> 8), tags); // its private creator
        foreach (var other in privateData.Skip(1).Where(e => e.Tag != keep)) Assert.DoesNotContain(other.Tag.Value, tags);
        Assert.Contains(result.Metadata.MethodCodes, c => c.Value == "113111");
    }

    [Fact]
    public void Demographics_are_reduced_to_sex_and_a_five_year_band()
    {
        var m = Deid("pydicom/CT_small.dcm").Result.Metadata;
        using var original = DicomFile.Open(SharedData.Require("dicom/pydicom/CT_small.dcm"));
        Assert.Equal(original.Dataset.GetString(new DicomTag(0x00100040)), m.Sex);
        Assert.Matches(@"^(\d+-\d+|90\+)$", m.AgeBand!);
        Assert.Contains("\"patient_pseudo_id\"", m.ToJson());
    }

    [Fact]
    public void Burned_in_annotation_is_flagged_and_native_pixels_can_be_masked()
    {
        var (result, output, _) = Deid("pydicom/MR_small.dcm", new DeidOptions { MaskRegions = [new PixelRegion(0, 0, 4, 2)] });
        Assert.True(result.Metadata.Masked);
        using var back = DicomFile.Open(output);
        var px = back.PixelData!.RawValue.Span;
        Assert.True(px[..8].IndexOfAnyExcept((byte)0) < 0, "masked pixels are zero");

        // The header flag (0028,0301) is carried into the metadata.
        using var f = DicomFile.Open(SharedData.Require("dicom/pydicom/MR_small.dcm"));
        var copy = DicomOutputDataset.From(f.Dataset, f.Source);
        copy.SetString(new DicomTag(0x00280301), DicomVR.CS, "YES");
        var path = _dir["burned.dcm"];
        DicomWriter.Write(path, copy, DicomWriter.OutputTransferSyntax(f.TransferSyntax));
        Assert.True(new DicomDeidentifier(_key).Deidentify(path).Metadata.BurnedInAnnotation.Header);
    }

    [Fact]
    public void Writer_round_trips_a_file_as_explicit_little_endian()
    {
        var path = SharedData.Require("dicom/pydicom/MR_small_implicit.dcm");
        using var f = DicomFile.Open(path);
        var ds = DicomOutputDataset.From(f.Dataset, f.Source);
        var bytes = DicomWriter.ToBytes(ds, DicomWriter.OutputTransferSyntax(f.TransferSyntax));
        var outPath = _dir["rt.dcm"];
        File.WriteAllBytes(outPath, bytes);
        DcmDump.Run(outPath);
        using var back = DicomFile.Open(bytes, new DicomReadOptions { Strict = true });
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, back.TransferSyntax.Uid);
        var a = f.Dataset.Where(e => !e.Tag.IsGroupLength).ToList();
        var b = back.Dataset.ToList();
        Assert.Equal(a.Select(e => e.Tag), b.Select(e => e.Tag));
        for (var i = 0; i < a.Count; i++)
            if (a[i].Items == null) Assert.Equal(a[i].GetStrings().Length > 0 ? a[i].GetStrings() : [], b[i].GetStrings().Length > 0 ? b[i].GetStrings() : []);
        // (0002,0000) is the byte count of the rest of group 0002.
        var groupLength = back.Meta.GetInteger(DicomTag.FileMetaInformationGroupLength);
        var metaEnd = back.Meta.Elements[^1].ValueOffset + back.Meta.Elements[^1].Length;
        Assert.Equal(metaEnd - (back.Meta.Elements[0].ValueOffset + 4), groupLength);
    }
    [Fact]
    public void Every_shared_file_is_deidentified_cleanly_or_refused_as_malformed()
    {
        var root = SharedData.Require("dicom");
        var deid = new DicomDeidentifier(_key);
        var refused = new List<string>();
        var written = 0;
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order())
        {
            if (path.EndsWith(".zst") || path.EndsWith(".txt") || path.EndsWith(".md") || Path.GetFileName(path) is "DICOMDIR" or "README") continue;
            var output = _dir["all-" + written + ".dcm"];
            DicomFile original;
            try { original = DicomFile.Open(path); }
            catch (DicomParseException) { refused.Add(Path.GetFileName(path)); continue; }
            using (original)
            {
                if (!original.IsComplete) { refused.Add(Path.GetFileName(path)); Assert.Throws<InvalidDataException>(() => deid.Deidentify(original)); continue; }
                deid.Deidentify(original).Save(output);
                written++;
                var dump = DcmDump.Run(output);
                Assert.DoesNotContain(DcmDump.Tags(dump), t => ((t >> 16) & 1) == 1);
                Assert.Contains("[YES]", DcmDump.Values(dump, 0x00120062).Single());
                foreach (var tag in new uint[] { 0x0020000D, 0x0020000E, 0x00080018 })
                    if (original.Dataset.GetString(new DicomTag(tag)) is { Length: > 0 } uid) Assert.DoesNotContain("[" + uid + "]", dump);
                if (original.Dataset.GetString(new DicomTag(0x00100010)) is { Length: >= 4 } name) Assert.DoesNotContain("[" + name + "]", dump);
            }
        }
        Assert.True(written > 200, $"only {written} files written");
        // The known-malformed files of docs/dicom.md, and nothing else, are refused.
        Assert.All(refused, r => Assert.Matches("truncated|no_meta|GH179B|GH364", r));
    }
    [Fact]
    public void Clean_descriptors_scrubs_identifiers_inside_descriptors_and_their_code_sequences()
    {
        using var f = DicomFile.Open(SharedData.Require("dicom/pydicom/CT_small.dcm")); // patient CompressedSamples^CT1, id 1CT1
        var ds = DicomOutputDataset.From(f.Dataset, f.Source);
        ds.SetString(new DicomTag(0x00081030), DicomVR.LO, "CT abdomen CompressedSamples 2004-01-19");
        ds.SetString(new DicomTag(0x00204000), DicomVR.LT, "Patient CompressedSamples called back");
        ds.SetString(new DicomTag(0x00181200), DicomVR.DA, "20040110"); // Date of Last Calibration: not in Table E.1-1
        var item = new DicomOutputDataset();
        item.SetString(new DicomTag(0x00080100), DicomVR.SH, "R10.9");
        item.SetString(new DicomTag(0x00080104), DicomVR.LO, "Pain, ask CompressedSamples on 555 123 4567");
        item.SetString(new DicomTag(0x0040A123), DicomVR.PN, "Nurse^Jane");
        ds.SetSequence(new DicomTag(0x00321067), [item]); // Reason for Visit Code Sequence: X, C under Clean Descriptors
        var input = _dir["clean-in.dcm"];
        DicomWriter.Write(input, ds, DicomWriter.OutputTransferSyntax(f.TransferSyntax));

        var output = _dir["clean-out.dcm"];
        var result = new DicomDeidentifier(_key).DeidentifyFile(input, output);
        var dump = DcmDump.Run(output);
        Assert.Contains("[CT abdomen * *]", DcmDump.Values(dump, 0x00081030).Single());
        Assert.Contains(DcmDump.Values(dump, 0x00080104), v => v.Contains("[Pain, ask * on *]"));
        Assert.Contains(DcmDump.Values(dump, 0x00080100), v => v.Contains("[R10.9]"));
        Assert.DoesNotContain("Jane", dump);
        Assert.DoesNotContain(0x00204000u, DcmDump.Tags(dump)); // free text removed, not cleaned
        Assert.Contains(result.Metadata.Notes, n => n.Contains("(0020,4000)"));
        var shifted = new DateOnly(2004, 1, 10).AddDays(result.Metadata.DateShiftDays!.Value).ToString("yyyyMMdd");
        Assert.Contains("[" + shifted + "]", DcmDump.Values(dump, 0x00181200).Single());

        // Without the option the descriptors and the code sequence are removed (basic profile X).
        var plain = new DicomDeidentifier(_key, new DeidOptions { CleanDescriptors = false }).DeidentifyFile(input, _dir["plain-out.dcm"]);
        var plainDump = DcmDump.Run(_dir["plain-out.dcm"]);
        Assert.DoesNotContain(0x00081030u, DcmDump.Tags(plainDump));
        Assert.DoesNotContain(0x00321067u, DcmDump.Tags(plainDump));
        Assert.DoesNotContain(plain.Metadata.MethodCodes, c => c.Value == "113105");
    }
    [Fact]
    public void Compressed_pixels_are_decoded_to_native_when_a_mask_is_applied()
    {
        var regions = new DeidOptions { MaskRegions = [new PixelRegion(10, 20, 5, 3)] };
        var (result, output, _) = Deid("pydicom/MR_small_RLE.dcm", regions);
        Assert.True(result.Metadata.Masked);
        Assert.Equal(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, result.TransferSyntaxUid);
        var masked = Casebook.Extract.Dicom.Pixels.PixelDecoder.Decode(output);
        var original = Casebook.Extract.Dicom.Pixels.PixelDecoder.Decode(SharedData.Require("dicom/pydicom/MR_small_RLE.dcm"));
        for (var y = 0; y < masked.Rows; y++)
            for (var x = 0; x < masked.Columns; x++)
            {
                var inside = x >= 10 && x < 15 && y >= 20 && y < 23;
                Assert.Equal(inside ? 0 : original[0, y, x, 0], masked[0, y, x, 0]);
            }
    }
}
