using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Casebook.Ingest;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Applies the PS3.15 Annex E Basic Application Level Confidentiality Profile (Table E.1-1) with the options in
/// <see cref="DeidOptions"/> to a read DICOM file, recursively into sequences, and produces a dataset ready to write
/// plus the metadata ingest stores. Keys come from the patient pseudonym key file (sub-keys "uid", "date-shift",
/// "device"), so every database and tool sharing a key file produces the same UIDs, date shifts and pseudonyms.
/// </summary>
public sealed class DicomDeidentifier
{
    readonly PatientPseudonym _key;
    readonly UidRemapper _uids;
    readonly byte[] _deviceKey;

    public DicomDeidentifier(PatientPseudonym key, DeidOptions? options = null)
    {
        _key = key ?? throw new ArgumentNullException(nameof(key));
        _uids = new UidRemapper(key);
        _deviceKey = key.DeriveKey("device");
        Options = options ?? DeidOptions.Default;
    }

    public DeidOptions Options { get; }

    /// <summary>A de-identifier keyed by a key file (null: <see cref="PatientPseudonym.DefaultKeyFile"/>), created when missing as ingest does.</summary>
    public static DicomDeidentifier ForKeyFile(string? keyFile, DeidOptions? options = null) => new(PatientPseudonym.Load(keyFile), options);

    /// <summary>The UID the profile gives <paramref name="originalUid"/> under this key (for callers that link to DICOM UIDs).</summary>
    public string RemapUid(string originalUid) => _uids.Remap(originalUid);

    /// <summary>Reads <paramref name="inputPath"/> completely, de-identifies it and writes <paramref name="outputPath"/>.</summary>
    public DeidResult DeidentifyFile(string inputPath, string outputPath)
    {
        var result = Deidentify(inputPath);
        result.Save(outputPath);
        return result;
    }

    public DeidResult Deidentify(string path)
    {
        using var file = DicomFile.Open(path);
        return Deidentify(file);
    }

    /// <summary>De-identifies a completely read file (partial reads are refused: what was not read could not be checked).</summary>
    public DeidResult Deidentify(DicomFile file)
    {
        if (!file.IsComplete)
            throw new InvalidDataException($"cannot de-identify a partially read DICOM file: {file.Problems[0].Message}");
        if (file.StoppedBeforePixels)
            throw new InvalidOperationException("the file was read with StopBeforePixels; de-identification writes the pixel data and needs it");
        var src = file.Dataset;
        var ctx = new Context(this, src);
        var output = new DicomOutputDataset();
        Process(src, output, ctx, depth: 0, file.Source);

        // Patient identity (PS3.15 E.1: Patient ID and Name are Z; Casebook replaces them with the pseudonym instead,
        // so de-identified instances of one patient still group together).
        output.SetString(DicomTag.PatientID, DicomVR.LO, ctx.PseudoId);
        output.SetString(new DicomTag(0x00100010), DicomVR.PN, "ANON^" + ctx.PseudoId[..12].ToUpperInvariant());

        if (ctx.RemovedOverlay) ctx.Notes.Add("removed overlay planes (60xx): Clean Graphics not selected");
        var headerFlag = string.Equals(src.GetString(BurnedInAnnotationTag), "YES", StringComparison.OrdinalIgnoreCase);
        var burned = CheckBurnedInText(file, src, ctx);
        var masks = Options.MaskRegions.ToList();
        if (Options.BurnedInText is { Mask: true } && burned.Regions != null) masks.AddRange(burned.Regions);
        var masked = ApplyMasks(output, ctx, file, masks);
        if (burned.TextFound == true && !masked)
            output.SetString(BurnedInAnnotationTag, DicomVR.CS, "YES"); // text seen in the pixels and left there: say so in the file (PS3.3 C.7.6.1 General Image)
        var (method, codes) = MethodRecord(ctx, masked);
        // PS3.15 E.1.1 and PS3.3 C.7.1.1: record that identity was removed and how.
        output.SetString(new DicomTag(0x00120062), DicomVR.CS, "YES");
        output.SetString(new DicomTag(0x00120063), DicomVR.LO, method.ToArray());
        output.SetSequence(new DicomTag(0x00120064), codes.Select(CodeItem).ToList());
        // PS3.3 C.7.6.1.1.? Longitudinal Temporal Information Modified (0028,0303).
        output.SetString(new DicomTag(0x00280303), DicomVR.CS, Options.RetainLongitudinalModifiedDates ? "MODIFIED" : "REMOVED");

        // Masked compressed pixels were decoded to native values, so they are written uncompressed.
        var ts = masked && file.TransferSyntax.Encapsulated ? DicomTransferSyntax.ExplicitVRLittleEndian.Uid : DicomWriter.OutputTransferSyntax(file.TransferSyntax);
        // A dataset without its own SOP UIDs (some test objects) takes them from the original meta, the instance UID remapped (Table E.1-1: (0002,0003) U).
        var metaInstance = file.Meta.GetString(DicomTag.MediaStorageSOPInstanceUID) is { Length: > 0 } mi ? (Options.RetainUids ? mi : _uids.Remap(mi)) : null;
        var meta = DicomWriter.BuildMeta(output, ts, file.Meta.GetString(DicomTag.MediaStorageSOPClassUID), metaInstance);
        var metadata = new DeidMetadata
        {
            Method = method,
            MethodCodes = codes,
            PatientPseudoId = ctx.PseudoId,
            DateShiftDays = Options.RetainLongitudinalModifiedDates ? ctx.Shift.Days : null,
            Sex = Sex(src),
            AgeBand = AgeBand(src),
            Modality = src.GetString(DicomTag.Modality),
            DeviceId = DeviceIdOf(_deviceKey, src),
            BurnedInAnnotation = new BurnedInAnnotation { Header = headerFlag, Ocr = burned.Ocr, OcrTextFound = burned.TextFound, OcrWords = burned.Words, Masked = masked && burned.Regions is { Count: > 0 } && Options.BurnedInText is { Mask: true } },
            Masked = masked,
            StudyInstanceUid = output.GetString(DicomTag.StudyInstanceUID) ?? "",
            SeriesInstanceUid = output.GetString(DicomTag.SeriesInstanceUID) ?? "",
            SopInstanceUid = meta.GetString(DicomTag.MediaStorageSOPInstanceUID) ?? "",
            Notes = ctx.Notes,
        };
        return new DeidResult(meta, output, ts, metadata);
    }

    // ---- the profile, element by element ----

    sealed class Context
    {
        public Context(DicomDeidentifier d, DicomDataset top)
        {
            Issuer = d.Options.Issuer ?? StudyManifest.DefaultIssuer;
            var patientId = top.GetString(DicomTag.PatientID);
            // No patient id: the study stands for the patient (its own pseudonym and shift), never a shared "empty" patient.
            var subject = string.IsNullOrWhiteSpace(patientId) ? "study:" + (top.GetString(DicomTag.StudyInstanceUID) ?? top.GetString(DicomTag.SOPInstanceUID) ?? "") : patientId;
            PseudoId = d._key.Pseudonymise(Issuer, subject);
            Shift = DateShift.ForPatient(d._key, Issuer, subject);
            Scrub = DescriptorScrubber.From(top);
        }
        public string Issuer { get; }
        public string PseudoId { get; }
        public DateShift Shift { get; }
        public DescriptorScrubber Scrub { get; }
        public List<string> Notes { get; } = new();
        public bool KeptPrivate { get; set; }
        public bool RemovedOverlay { get; set; }
    }

    /// <param name="cleanText">inside a sequence being cleaned (Clean Descriptors): text not in the table is scrubbed too</param>
    void Process(DicomDataset src, DicomOutputDataset dst, Context ctx, int depth, DicomByteSource source, bool cleanText = false)
    {
        var keptPrivateBlocks = new HashSet<uint>();
        foreach (var e in src)
        {
            var tag = e.Tag;
            if (tag.IsGroupLength || tag.Group == 0x0002) continue;
            // PS3.5 §7.8.1: odd groups 0001-0007 and FFFF may not be used; like private data they can hold anything, so they go too.
            if ((tag.Group & 1) == 1 && !tag.IsPrivate) { ctx.Notes.Add($"removed {tag} (illegal odd group)"); continue; }
            if (tag.IsPrivate)
            {
                if (tag.IsPrivateCreator) continue; // kept below only when an element of its block is kept
                var creator = src.PrivateCreatorOf(tag);
                if (Options.SafePrivateTags.Any(s => s.Matches(tag, creator)))
                {
                    dst.Set(DicomOutputElement.From(e, source));
                    keptPrivateBlocks.Add(((uint)tag.Group << 16) | (uint)(tag.Element >> 8));
                    ctx.KeptPrivate = true;
                    ctx.Notes.Add($"kept private {tag} ({creator ?? "no creator"})");
                }
                continue;
            }
            if (depth == 0 && (tag == DicomTag.PixelData || tag == DicomTag.FloatPixelData || tag == DicomTag.DoubleFloatPixelData))
            {
                dst.Set(DicomOutputElement.From(e, source));
                continue;
            }

            // Overlay planes (PS3.3 C.9.2, repeating groups 6000-601E): Table E.1-1 removes Overlay Data and Comments, which leaves
            // a plane without its Type 1 data, so without Clean Graphics the whole plane goes; with it, its text is cleaned.
            if (tag.Group is >= 0x6000 and <= 0x601E && (tag.Group & 1) == 0)
            {
                if (!Options.CleanGraphics) { ctx.RemovedOverlay = true; continue; }
                if (e.VR.UsesCharacterSet) { if (CleanText(e, "overlay text", ctx, source) is { } c) dst.Set(c); continue; }
            }

            var row = ConfidentialityProfile.Lookup(tag);
            if (row == null)
            {
                // Not in Table E.1-1: kept. Sequences are kept with the profile applied inside; under the dates option,
                // every other date is shifted too, so no absolute date survives anywhere.
                if (e.Items != null) dst.Set(Recurse(e, ctx, depth, source, cleanText));
                else if (cleanText && e.VR.UsesCharacterSet) { if (CleanText(e, "in a cleaned sequence", ctx, source) is { } c) dst.Set(c); }
                else if (Options.RetainLongitudinalModifiedDates && (e.VR == DicomVR.DA || e.VR == DicomVR.DT)) dst.Set(ShiftDates(e, ctx));
                else dst.Set(DicomOutputElement.From(e, source));
                continue;
            }

            switch (ConfidentialityProfile.Resolve(row, Options))
            {
                case DeidAction.Remove:
                    break;
                case DeidAction.Keep:
                    dst.Set(e.Items != null ? Recurse(e, ctx, depth, source, cleanText) : DicomOutputElement.From(e, source));
                    break;
                case DeidAction.Empty:
                    dst.Set(e.Items != null || e.VR == DicomVR.SQ ? new DicomOutputElement(tag, DicomVR.SQ, default) { Items = [] } : new DicomOutputElement(tag, e.VR, default));
                    break;
                case DeidAction.Dummy:
                    dst.Set(Dummy(e));
                    break;
                case DeidAction.ReplaceUid:
                    dst.Set(new DicomOutputElement(tag, DicomVR.UI, Encoding.ASCII.GetBytes(string.Join('\\', e.GetStrings().Select(_uids.Remap)))));
                    break;
                case DeidAction.Clean:
                    var cleaned = Clean(e, row, ctx, depth, source);
                    if (cleaned != null) dst.Set(cleaned);
                    break;
            }
        }
        foreach (var block in keptPrivateBlocks)
        {
            var creatorTag = new DicomTag(block);
            if (src.Find(creatorTag) is { } c) dst.Set(DicomOutputElement.From(c, source));
        }
    }

    DicomOutputElement Recurse(DicomElement e, Context ctx, int depth, DicomByteSource source, bool cleanText = false)
    {
        var items = new List<DicomOutputDataset>(e.Items!.Count);
        foreach (var item in e.Items)
        {
            var o = new DicomOutputDataset();
            Process(item, o, ctx, depth + 1, source, cleanText);
            items.Add(o);
        }
        return new DicomOutputElement(e.Tag, DicomVR.SQ, default) { Items = items };
    }

    DicomOutputElement? Clean(DicomElement e, ConfidentialityProfileRow row, Context ctx, int depth, DicomByteSource source)
    {
        // Dates and times under Retain Longitudinal Temporal Information with Modified Dates (E.3.6).
        if (Options.RetainLongitudinalModifiedDates && row.OptionAction("dates") == "C")
        {
            if (e.VR == DicomVR.DA || e.VR == DicomVR.DT) return ShiftDates(e, ctx);
            return DicomOutputElement.From(e, source); // TM and timezone offsets: a whole-day shift leaves them unchanged
        }
        // Clean Descriptors (E.3.5).
        if (e.Items != null) { return Recurse(e, ctx, depth, source, cleanText: true); }
        if (!e.VR.IsString) return DicomOutputElement.From(e, source);
        return CleanText(e, row.Name, ctx, source);
    }

    DicomOutputElement? CleanText(DicomElement e, string name, Context ctx, DicomByteSource source)
    {
        if (e.VR == DicomVR.LT || e.VR == DicomVR.ST || e.VR == DicomVR.UT)
        {
            // Narrative text cannot be shown free of identifiers by pattern scrubbing; it is removed until an NLP scrubber exists.
            ctx.Notes.Add($"removed free text {e.Tag} {name}");
            return null;
        }
        // A person name inside a cleaned descriptor (e.g. in a code sequence item) is never a descriptor: emptied.
        if (e.VR == DicomVR.PN) return new DicomOutputElement(e.Tag, e.VR, default);
        var text = string.Join('\\', e.GetStrings());
        var scrubbed = ctx.Scrub.Scrub(text);
        if (scrubbed == text) { return DicomOutputElement.From(e, source); }
        var bytes = EncodeLike(e.Parent.CharacterSet, scrubbed);
        if (bytes == null) { ctx.Notes.Add($"removed descriptor {e.Tag} {name} (could not re-encode after cleaning)"); return null; }
        ctx.Notes.Add($"cleaned descriptor {e.Tag} {name}");
        return new DicomOutputElement(e.Tag, e.VR, bytes);
    }

    /// <summary>Encodes cleaned text in the dataset's character set when that is simple (default, Latin-1, UTF-8, or plain ASCII text).</summary>
    static byte[]? EncodeLike(DicomCharacterSet cs, string text)
    {
        if (text.All(char.IsAscii)) return Encoding.ASCII.GetBytes(text);
        var term = cs.Terms.Count == 1 ? cs.Terms[0].Trim() : null;
        return term switch
        {
            "" or "ISO_IR 100" => text.All(c => c <= 0xFF) ? Encoding.Latin1.GetBytes(text) : null,
            "ISO_IR 192" => Encoding.UTF8.GetBytes(text),
            _ => null,
        };
    }

    DicomOutputElement ShiftDates(DicomElement e, Context ctx)
    {
        var raw = DicomCharacterSet.DecodeDefault(e.RawValue.Span);
        var shifted = ctx.Shift.ShiftValues(raw, dateTime: e.VR == DicomVR.DT);
        return new DicomOutputElement(e.Tag, e.VR, Encoding.ASCII.GetBytes(shifted));
    }

    /// <summary>D: a non-zero-length value of the VR that identifies nothing.</summary>
    static DicomOutputElement Dummy(DicomElement e)
    {
        var vr = e.VR;
        if (e.Items != null || vr == DicomVR.SQ) return new DicomOutputElement(e.Tag, DicomVR.SQ, default) { Items = [] };
        string? s = vr == DicomVR.PN ? "ANONYMIZED"
            : vr == DicomVR.DA ? "19000101" : vr == DicomVR.DT ? "19000101000000" : vr == DicomVR.TM ? "000000"
            : vr == DicomVR.DS || vr == DicomVR.IS ? "0" : vr == DicomVR.AS ? "000Y" : vr == DicomVR.UI ? "2.25.0"
            : vr.IsString ? "ANONYMIZED" : null;
        if (s != null) return new DicomOutputElement(e.Tag, vr, Encoding.ASCII.GetBytes(s));
        var size = vr.ValueSize > 0 ? vr.ValueSize : 2;
        return new DicomOutputElement(e.Tag, vr, new byte[size]);
    }

    // ---- what is recorded ----

    static readonly DeidCode BasicProfile = new("113100", "DCM", "Basic Application Confidentiality Profile");
    static readonly DeidCode ModifiedDates = new("113107", "DCM", "Retain Longitudinal Temporal Information Modified Dates Option");
    static readonly DeidCode CleanDescriptors = new("113105", "DCM", "Clean Descriptors Option");
    static readonly DeidCode DeviceIdentity = new("113109", "DCM", "Retain Device Identity Option");
    static readonly DeidCode SafePrivate = new("113111", "DCM", "Retain Safe Private Option");
    static readonly DeidCode CleanPixelData = new("113101", "DCM", "Clean Pixel Data Option");
    static readonly DeidCode CleanGraphicsCode = new("113103", "DCM", "Clean Graphics Option");
    static readonly DeidCode CleanStructuredContentCode = new("113104", "DCM", "Clean Structured Content Option");
    static readonly DeidCode PatientCharacteristics = new("113108", "DCM", "Retain Patient Characteristics Option");
    static readonly DeidCode RetainUidsCode = new("113110", "DCM", "Retain UIDs Option");
    static readonly DeidCode InstitutionIdentity = new("113112", "DCM", "Retain Institution Identity Option");

    /// <summary>(0012,0063) text and (0012,0064) codes (PS3.16 CID 7050) of what was applied; the same lists go into metadata.</summary>
    (List<string>, List<DeidCode>) MethodRecord(Context ctx, bool masked)
    {
        var codes = new List<DeidCode> { BasicProfile };
        // (0012,0063) is LO: each value at most 64 characters.
        var method = new List<string> { "Casebook PS3.15 E.1 Basic Profile", ConfidentialityProfile.Source };
        void Add(bool on, DeidCode code, string text) { if (on) { codes.Add(code); method.Add(text); } }
        Add(masked, CleanPixelData, "Clean Pixel Data (masked regions)");
        Add(Options.CleanGraphics, CleanGraphicsCode, "Clean Graphics");
        Add(Options.CleanStructuredContent, CleanStructuredContentCode, "Clean Structured Content");
        Add(Options.CleanDescriptors, CleanDescriptors, "Clean Descriptors");
        Add(Options.RetainLongitudinalModifiedDates, ModifiedDates, "Retain Longitudinal Modified Dates (per-patient shift)");
        Add(Options.RetainPatientCharacteristics, PatientCharacteristics, "Retain Patient Characteristics");
        Add(Options.RetainDeviceIdentity, DeviceIdentity, "Retain Device Identity");
        Add(Options.RetainUids, RetainUidsCode, "Retain UIDs");
        Add(ctx.KeptPrivate, SafePrivate, "Retain Safe Private");
        Add(Options.RetainInstitutionIdentity, InstitutionIdentity, "Retain Institution Identity");
        return (method, codes);
    }

    static DicomOutputDataset CodeItem(DeidCode c)
    {
        var item = new DicomOutputDataset();
        item.SetString(new DicomTag(0x00080100), DicomVR.SH, c.Value);
        item.SetString(new DicomTag(0x00080102), DicomVR.SH, c.Scheme);
        item.SetString(new DicomTag(0x00080104), DicomVR.LO, c.Meaning);
        return item;
    }

    // ---- de-identified demographics, read from the original header before anything is removed ----

    static string? Sex(DicomDataset ds) => ds.GetString(new DicomTag(0x00100040))?.ToUpperInvariant() switch
    {
        "M" => "M", "F" => "F", "O" => "O", _ => null,
    };

    /// <summary>5-year bands, 90 and over grouped (HIPAA Safe Harbor §164.514(b)(2)(i)(C)). Age from (0010,1010), else birth date to study date.</summary>
    public static string? AgeBand(DicomDataset ds)
    {
        var years = AgeYears(ds);
        if (years is not { } y || y < 0 || y > 150) return null;
        if (y >= 90) return "90+";
        var lo = y / 5 * 5;
        return $"{lo}-{lo + 4}";
    }

    static int? AgeYears(DicomDataset ds)
    {
        // PS3.5 AS: nnnD, nnnW, nnnM or nnnY.
        var age = ds.GetString(new DicomTag(0x00101010));
        if (age is { Length: >= 2 } && int.TryParse(age[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return char.ToUpperInvariant(age[^1]) switch { 'Y' => n, 'M' => n / 12, 'W' => n / 52, 'D' => n / 365, _ => null };
        var birth = ParseDate(ds.GetString(new DicomTag(0x00100030)));
        var exam = ParseDate(ds.GetString(new DicomTag(0x00080020))) ?? ParseDate(ds.GetString(new DicomTag(0x00080021)))
            ?? ParseDate(ds.GetString(new DicomTag(0x00080022))) ?? ParseDate(ds.GetString(new DicomTag(0x00080023)));
        if (birth is not { } b || exam is not { } x) return null;
        var years = x.Year - b.Year;
        if (x < b.AddYears(years)) years--;
        return years;
    }

    static DateOnly? ParseDate(string? s) =>
        s != null && DateOnly.TryParseExact(s.Trim().Replace(".", ""), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    /// <summary>
    /// Keyed hash of manufacturer | model | serial (or station name when there is no serial); null when neither is present.
    /// Keyed by the key file's "device" sub-key; ingest's metadata uses the same function, so the two agree.
    /// </summary>
    public static string? DeviceIdOf(PatientPseudonym key, DicomDataset ds) => DeviceIdOf(key.DeriveKey("device"), ds);

    static string? DeviceIdOf(byte[] deviceKey, DicomDataset ds)
    {
        var serial = ds.GetString(new DicomTag(0x00181000)) ?? ds.GetString(new DicomTag(0x00081010));
        if (string.IsNullOrWhiteSpace(serial)) return null;
        var text = $"{ds.GetString(new DicomTag(0x00080070))}|{ds.GetString(new DicomTag(0x00081090))}|{serial}";
        return "dev-" + Convert.ToHexStringLower(HMACSHA256.HashData(deviceKey, Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
    }

    // ---- burned-in text ----

    static readonly DicomTag BurnedInAnnotationTag = new(0x00280301);
    readonly Dictionary<string, (int Checked, List<PixelRegion> Regions)> _seriesText = new();

    sealed record BurnedInCheck(string Ocr, bool? TextFound, int? Words, IReadOnlyList<PixelRegion>? Regions);

    /// <summary>
    /// OCR of the key frame when configured and the modality burns text in; the first <see cref="BurnedInTextOptions.InstancesPerSeries"/>
    /// instances of a series are read, later ones reuse the regions found in their series (annotations sit at fixed places per device).
    /// A missing or failing Tesseract is noted, never fatal: the header flag still stands.
    /// </summary>
    BurnedInCheck CheckBurnedInText(DicomFile file, DicomDataset src, Context ctx)
    {
        var o = Options.BurnedInText;
        if (o == null) return new("not configured", null, null, null);
        var modality = src.GetString(DicomTag.Modality)?.Trim() ?? "";
        if (!o.Modalities.Contains(modality)) return new($"skipped: modality {(modality.Length > 0 ? modality : "unknown")}", null, null, null);
        if (file.PixelData == null) return new("skipped: no pixel data", null, null, null);
        var series = src.GetString(DicomTag.SeriesInstanceUID) ?? "";
        lock (_seriesText)
            if (series.Length > 0 && _seriesText.TryGetValue(series, out var seen) && seen.Checked >= o.InstancesPerSeries)
                return new("series regions reused", null, null, seen.Regions.ToList());
        BurnedInTextFinding finding;
        try { finding = BurnedInTextDetector.Detect(file, o); }
        catch (Exception e) when (e is Casebook.Extract.Documents.DocumentExtractionException or Casebook.Extract.Dicom.Pixels.PixelDecodeException or NotSupportedException or DllNotFoundException or IOException)
        {
            ctx.Notes.Add($"burned-in text not checked: {e.Message}");
            return new($"failed: {e.Message}", null, null, null);
        }
        var regions = finding.Regions.ToList();
        if (series.Length > 0)
            lock (_seriesText)
            {
                if (!_seriesText.TryGetValue(series, out var seen)) seen = (0, new List<PixelRegion>());
                seen.Regions.AddRange(finding.Regions);
                _seriesText[series] = (seen.Checked + 1, seen.Regions);
                // An instance masks what was found in it and in the series before it (the same annotation, maybe read less well here).
                regions = seen.Regions.ToList();
            }
        ctx.Notes.Add($"burned-in text OCR of frame {finding.Frame}: {finding.Words} word(s) in the border band");
        return new("checked", finding.Words > 0, finding.Words, regions);
    }

    // ---- masking ----

    bool ApplyMasks(DicomOutputDataset output, Context ctx, DicomFile file, IReadOnlyList<PixelRegion> regions)
    {
        if (regions.Count == 0) return false;
        var pixels = output[DicomTag.PixelData];
        if (pixels == null) return false;
        if (pixels.Fragments != null && !DecodeToNative(output, pixels, ctx, file)) return false;
        int Get(uint t, int dflt) => int.TryParse(DecodeUs(output[new DicomTag(t)]), out var v) ? v : dflt;
        int rows = Get(0x00280010, 0), cols = Get(0x00280011, 0), spp = Get(0x00280002, 1), bits = Get(0x00280100, 8);
        var planar = Get(0x00280006, 0);
        var frames = int.TryParse(output.GetString(DicomTag.NumberOfFrames), out var f) ? Math.Max(1, f) : 1;
        if (rows == 0 || cols == 0 || bits % 8 != 0) { ctx.Notes.Add("mask regions not applied: unsupported pixel layout"); return false; }
        var bytesPer = bits / 8;
        // Black boxes: stored 0 is black except under MONOCHROME1 (PS3.3 C.7.6.3.1.2), where black is the largest stored value.
        var fill = new byte[bytesPer];
        if (string.Equals(output.GetString(new DicomTag(0x00280004)), "MONOCHROME1", StringComparison.Ordinal))
        {
            var stored = Math.Clamp(Get(0x00280101, bits), 1, Math.Min(bits, 32));
            var signed = Get(0x00280103, 0) == 1;
            var max = signed ? (1u << (stored - 1)) - 1 : stored >= 32 ? uint.MaxValue : (1u << stored) - 1;
            for (var i = 0; i < bytesPer; i++) fill[i] = (byte)(max >> (8 * i)); // little endian (the output is always LE)
        }
        var data = pixels.Value.ToArray();
        var frameBytes = (long)rows * cols * spp * bytesPer;
        for (var fr = 0; fr < frames; fr++)
            foreach (var r in regions)
                for (var y = Math.Max(0, r.Y); y < Math.Min(rows, r.Y + r.Height); y++)
                    for (var x = Math.Max(0, r.X); x < Math.Min(cols, r.X + r.Width); x++)
                        for (var s = 0; s < spp; s++)
                        {
                            // PS3.3 C.7.6.3.1.3: planar configuration 0 interleaves samples, 1 stores one plane per sample.
                            var index = planar == 0 ? ((long)y * cols + x) * spp + s : (long)s * rows * cols + (long)y * cols + x;
                            var at = fr * frameBytes + index * bytesPer;
                            if (at + bytesPer <= data.Length) fill.CopyTo(data.AsSpan((int)at, bytesPer));
                        }
        pixels.Value = data;
        ctx.Notes.Add($"masked {regions.Count} region(s) in {frames} frame(s)");
        return true;
    }

    /// <summary>
    /// Compressed pixels cannot be masked in place: decode them (the Pixels codecs) to native stored values and replace the
    /// encapsulated element, updating the Image Pixel attributes to describe the new layout (PS3.3 C.7.6.3). The output is then
    /// written uncompressed; (0028,2110) Lossy Image Compression keeps its value, so a lossy history stays recorded.
    /// </summary>
    static bool DecodeToNative(DicomOutputDataset output, DicomOutputElement pixels, Context ctx, DicomFile file)
    {
        Casebook.Extract.Dicom.Pixels.PixelData decoded;
        try { decoded = Casebook.Extract.Dicom.Pixels.PixelDecoder.Decode(file); }
        catch (Exception e) when (e is Casebook.Extract.Dicom.Pixels.PixelDecodeException or NotSupportedException or DllNotFoundException)
        {
            ctx.Notes.Add($"mask regions not applied: compressed pixel data could not be decoded ({e.Message})");
            return false;
        }
        var bits = decoded.BytesPerSample * 8;
        pixels.Fragments = null;
        pixels.VR = bits > 8 ? DicomVR.OW : DicomVR.OB;
        pixels.Value = decoded.Buffer;
        static byte[] Us(int v) => BitConverter.GetBytes((ushort)v);
        output.SetBytes(DicomTag.BitsAllocated, DicomVR.US, Us(bits));
        output.SetBytes(new DicomTag(0x00280101), DicomVR.US, Us(decoded.BitsStored));
        output.SetBytes(new DicomTag(0x00280102), DicomVR.US, Us(decoded.BitsStored - 1));
        output.SetString(new DicomTag(0x00280004), DicomVR.CS, decoded.PhotometricInterpretation);
        if (decoded.SamplesPerPixel > 1) output.SetBytes(new DicomTag(0x00280006), DicomVR.US, Us(0));
        output.Remove(DicomTag.ExtendedOffsetTable);
        output.Remove(DicomTag.ExtendedOffsetTableLengths);
        ctx.Notes.Add($"compressed pixel data ({file.TransferSyntax.Name}) decoded to native for masking");
        return true;
    }

    static string? DecodeUs(DicomOutputElement? e) =>
        e == null || e.Value.Length < 2 ? null : BitConverter.ToUInt16(e.Value.Span[..2]).ToString(CultureInfo.InvariantCulture);
}
