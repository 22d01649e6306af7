using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Captures what a clinician filters on from DICOM headers into <c>metadata</c>: modality, body part, descriptions,
/// MR sequence type, acquisition parameters, the device (keyed hash instead of the serial number) and de-identified
/// demographics (sex; age as a 5-year band, 90+ grouped). Identifiers (names, IDs, dates of birth, institution,
/// physicians) are never read into metadata.
/// </summary>
public static class DicomMetadata
{
    static readonly DicomTag BodyPartExamined = new(0x00180015), StudyDescription = new(0x00081030), SeriesDescription = new(0x0008103E);
    static readonly DicomTag ProtocolName = new(0x00181030), SequenceName = new(0x00180024), ScanningSequence = new(0x00180020);
    static readonly DicomTag SequenceVariant = new(0x00180021), ScanOptions = new(0x00180022), RepetitionTime = new(0x00180080);
    static readonly DicomTag EchoTime = new(0x00180081), InversionTime = new(0x00180082), DiffusionBValue = new(0x00189087);
    static readonly DicomTag EffectiveEchoTime = new(0x00189082), PulseSequenceName = new(0x00189005);
    static readonly DicomTag MagneticFieldStrength = new(0x00180087), Kvp = new(0x00180060), SliceThickness = new(0x00180050);
    static readonly DicomTag PixelSpacing = new(0x00280030), SpacingBetweenSlices = new(0x00180088), Manufacturer = new(0x00080070);
    static readonly DicomTag ManufacturerModelName = new(0x00081090), StationName = new(0x00081010);
    static readonly DicomTag PatientSex = new(0x00100040), PatientAge = new(0x00101010), PatientBirthDate = new(0x00100030);
    static readonly DicomTag StudyDate = new(0x00080020), SeriesDate = new(0x00080021), AcquisitionDate = new(0x00080022), ContentDate = new(0x00080023);
    static readonly DicomTag ContrastBolusAgent = new(0x00180010), ConvolutionKernel = new(0x00181210), MRAcquisitionType = new(0x00180023);
    static readonly DicomTag ViewPosition = new(0x00185101), Laterality = new(0x00200060), ImageLaterality = new(0x00200062);
    static readonly DicomTag ImageType = new(0x00080008), BurnedInAnnotation = new(0x00280301), PhotometricInterpretation = new(0x00280004);
    static readonly DicomTag SharedFunctionalGroups = new(0x52009229), PerFrameFunctionalGroups = new(0x52009230);

    /// <summary>A tag's element at top level, else inside the first item of a shared (then first per-frame) functional group macro (PS3.3 C.7.6.16).</summary>
    public static DicomElement? Find(DicomDataset ds, DicomTag tag)
    {
        if (ds.Find(tag) is { } e) return e;
        foreach (var groupTag in (ReadOnlySpan<DicomTag>)[SharedFunctionalGroups, PerFrameFunctionalGroups])
        {
            if (ds.Find(groupTag)?.Items is not { Count: > 0 } items) continue;
            foreach (var macro in items[0])
                if (macro.Items is { Count: > 0 } inner && inner[0].Find(tag) is { } found) return found;
        }
        return null;
    }

    static string? Str(DicomDataset ds, DicomTag tag) => Find(ds, tag)?.GetString() is { } s && s.Trim() is { Length: > 0 } t ? t : null;
    static double? Num(DicomDataset ds, DicomTag tag) => Find(ds, tag)?.GetDoubles() is { Length: > 0 } d && double.IsFinite(d[0]) ? d[0] : null;
    static JsonNode? Round(double? v) => v is { } x ? JsonValue.Create(Math.Round(x, 4)) : null;

    /// <summary>One series' acquisition facts (for metadata.dicom.series[]).</summary>
    public static JsonObject Series(DicomDataset ds, string remappedSeriesUid, int? number, string? modality, int slices, int embedded)
    {
        var o = new JsonObject
        {
            ["series_uid"] = remappedSeriesUid,
            ["number"] = number,
            ["modality"] = modality,
            ["description"] = Clean(ds, Str(ds, SeriesDescription)),
            ["body_part"] = Str(ds, BodyPartExamined)?.ToUpperInvariant(),
            ["slices"] = slices,
            ["embedded"] = embedded,
            ["rows"] = (int?)Num(ds, DicomTag.Rows),
            ["columns"] = (int?)Num(ds, DicomTag.Columns),
            ["photometric"] = Str(ds, PhotometricInterpretation),
            ["image_type"] = Find(ds, ImageType)?.GetStrings() is { Length: > 0 } it ? string.Join('\\', it) : null,
            ["slice_thickness"] = Round(Num(ds, SliceThickness)),
            ["spacing_between_slices"] = Round(Num(ds, SpacingBetweenSlices)),
            ["pixel_spacing"] = Find(ds, PixelSpacing)?.GetDoubles() is { Length: 2 } ps && ps.All(double.IsFinite) ? new JsonArray(Math.Round(ps[0], 4), Math.Round(ps[1], 4)) : null,
            ["kvp"] = Round(Num(ds, Kvp)),
            ["field_strength"] = Round(Num(ds, MagneticFieldStrength)),
            ["convolution_kernel"] = Str(ds, ConvolutionKernel),
            ["contrast"] = Str(ds, ContrastBolusAgent) != null ? true : null,
        };
        if (string.Equals(modality, "MR", StringComparison.OrdinalIgnoreCase))
        {
            o["sequence_type"] = MrSequenceType(ds);
            o["scanning_sequence"] = Find(ds, ScanningSequence)?.GetStrings() is { Length: > 0 } ss ? string.Join('\\', ss) : null;
            o["sequence_variant"] = Find(ds, SequenceVariant)?.GetStrings() is { Length: > 0 } sv ? string.Join('\\', sv) : null;
            o["sequence_name"] = Str(ds, SequenceName) ?? Str(ds, PulseSequenceName);
            o["mr_acquisition_type"] = Str(ds, MRAcquisitionType);
            o["repetition_time"] = Round(Num(ds, RepetitionTime));
            o["echo_time"] = Round(Num(ds, EchoTime) ?? Num(ds, EffectiveEchoTime));
            o["inversion_time"] = Round(Num(ds, InversionTime));
            o["b_value"] = Round(Num(ds, DiffusionBValue));
        }
        return Compact(o);
    }

    /// <summary>Study-level facts from the key instance's header, added to metadata (filterable keys from docs/filter-language.md).</summary>
    public static void AddStudy(JsonObject meta, DicomDataset key, string? modality, PatientPseudonym pseudonym, DicomIngestOptions options)
    {
        void Put(string name, JsonNode? value) { if (value != null) meta[name] = value; }
        Put("body_part", Str(key, BodyPartExamined)?.ToUpperInvariant());
        Put("study_description", Clean(key, Str(key, StudyDescription)));
        Put("series_description", Clean(key, Str(key, SeriesDescription)));
        if (string.Equals(modality, "MR", StringComparison.OrdinalIgnoreCase)) Put("mr_sequence", MrSequenceType(key));
        Put("kvp", Round(Num(key, Kvp)));
        Put("slice_thickness", Round(Num(key, SliceThickness)));
        Put("field_strength", Round(Num(key, MagneticFieldStrength)));
        Put("view_position", Str(key, ViewPosition));
        Put("laterality", Str(key, ImageLaterality) ?? Str(key, Laterality));
        var manufacturer = Str(key, Manufacturer);
        var model = Str(key, ManufacturerModelName);
        Put("manufacturer", manufacturer);
        Put("manufacturer_model", model);
        // The serial number identifies one machine (and so a site): only a keyed hash of it is kept, the same id the
        // de-identifier records (same key file sub-key, same fields), so metadata and stored instances agree.
        Put("device", DicomDeidentifier.DeviceIdOf(pseudonym, key));
        if (options.RetainDeviceIdentity) Put("station", Str(key, StationName));
        if (Str(key, PatientSex) is { } sex) Demographics.AddToMetadata(meta, "sex", sex);
        if (AgeYears(key) is { } age) Put("age_band", Demographics.AgeBand(age.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Descriptions go through the de-identifier's Clean Descriptors scrubber (PS3.15 E.3.5), seeded with this header's own
    /// identifiers, so metadata never holds a descriptor the stored DICOM would not.
    /// </summary>
    static string? Clean(DicomDataset ds, string? text) =>
        text == null ? null : DescriptorScrubber.From(Root(ds)).Scrub(text) is { Length: > 0 } s && s.Trim('*', ' ').Length > 0 ? s : null;

    static DicomDataset Root(DicomDataset ds) { while (ds.Parent != null) ds = ds.Parent; return ds; }

    /// <summary>Drops null members so metadata stays small.</summary>
    static JsonObject Compact(JsonObject o)
    {
        foreach (var k in o.Where(kv => kv.Value == null).Select(kv => kv.Key).ToList()) o.Remove(k);
        return o;
    }

    /// <summary>
    /// Age in whole years at the exam: Patient's Age (AS, "nnnD/W/M/Y", PS3.5 §6.2) or, without it, Study Date minus
    /// Patient's Birth Date. Only its 5-year band is stored.
    /// </summary>
    public static int? AgeYears(DicomDataset ds)
    {
        if (Str(ds, PatientAge) is { Length: >= 2 } a && int.TryParse(a[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            var years = char.ToUpperInvariant(a[^1]) switch { 'Y' => n, 'M' => n / 12, 'W' => n / 52, 'D' => n / 365, _ => -1 };
            if (years >= 0) return years;
        }
        if (Date(Str(ds, PatientBirthDate)) is { } birth && (Date(Str(ds, StudyDate)) ?? Date(Str(ds, SeriesDate))) is { } exam && exam >= birth)
        {
            var years = exam.Year - birth.Year;
            if (exam < birth.AddYears(years)) years--;
            return years;
        }
        return null;
    }

    /// <summary>The exam date in the header: Study Date, else Series, Acquisition or Content Date (DA, yyyyMMdd).</summary>
    public static DateOnly? ExamDate(DicomDataset ds) =>
        Date(Str(ds, StudyDate)) ?? Date(Str(ds, SeriesDate)) ?? Date(Str(ds, AcquisitionDate)) ?? Date(Str(ds, ContentDate));

    static DateOnly? Date(string? da) =>
        da != null && DateOnly.TryParseExact(da.Trim(), ["yyyyMMdd", "yyyy.MM.dd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    /// <summary>
    /// MR sequence type from the header (no pixel analysis), most specific evidence first:
    /// 1. diffusion: b-value &gt; 0, or a diffusion name (DWI, TRACE, ep_b…, ADC);
    /// 2. inversion recovery (ScanningSequence IR, or an Inversion Time): TI ≥ 1500 ms → FLAIR, TI ≤ 300 ms → STIR, else T1 (MPRAGE-like);
    /// 3. names in Sequence Name / Series Description / Protocol Name: FLAIR, STIR, SWI, T2*, T1, T2, PD;
    /// 4. TR/TE: TR &lt; 1000 and TE &lt; 30 → T1; TR ≥ 2000 and TE ≥ 80 → T2; TR ≥ 1500 and TE &lt; 40 → PD;
    ///    gradient echo (GR) with TE ≥ 15 and TR &lt; 1000 → T2*.
    /// Returns null when nothing fits.
    /// </summary>
    public static string? MrSequenceType(DicomDataset ds)
    {
        var names = string.Join(' ', new[] { Str(ds, SequenceName), Str(ds, PulseSequenceName), Str(ds, SeriesDescription), Str(ds, ProtocolName) }.Where(s => s != null)).ToUpperInvariant();
        var scanning = string.Join('\\', Find(ds, ScanningSequence)?.GetStrings() ?? []).ToUpperInvariant();
        double? tr = Num(ds, RepetitionTime), te = Num(ds, EchoTime) ?? Num(ds, EffectiveEchoTime), ti = Num(ds, InversionTime), b = Num(ds, DiffusionBValue);
        bool Has(params string[] words) => words.Any(w => names.Contains(w, StringComparison.Ordinal));

        if (Has("ADC", "APPARENT DIFF")) return "ADC";
        if (b > 0 || Has("DWI", "DIFFUSION", "TRACE", "EP_B", "*EP_B", "DTI")) return "DWI";
        if (scanning.Contains("IR") || ti > 0)
        {
            if (ti >= 1500) return "FLAIR";
            if (ti is > 0 and <= 300) return "STIR";
            if (ti > 300) return "T1";
        }
        if (Has("FLAIR")) return "FLAIR";
        if (Has("STIR")) return "STIR";
        if (Has("SWI", "SWAN", "SUSCEPT")) return "SWI";
        if (Has("T2*", "T2STAR", "T2 STAR", "MEDIC", "HEMO")) return "T2*";
        if (Has("T1")) return "T1";
        if (Has("T2")) return "T2";
        if (Has("PD", "PROTON DENS")) return "PD";
        if (tr is { } r && te is { } e)
        {
            if (scanning.Contains("GR") && e >= 15 && r < 1000) return "T2*";
            if (r < 1000 && e < 30) return "T1";
            if (r >= 2000 && e >= 80) return "T2";
            if (r >= 1500 && e < 40) return "PD";
        }
        return null;
    }
}
