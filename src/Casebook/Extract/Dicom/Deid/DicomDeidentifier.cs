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

        var masked = ApplyMasks(output, ctx);
        var (method, codes) = MethodRecord(ctx);
        // PS3.15 E.1.1 and PS3.3 C.7.1.1: record that identity was removed and how.
        output.SetString(new DicomTag(0x00120062), DicomVR.CS, "YES");
        output.SetString(new DicomTag(0x00120063), DicomVR.LO, method.ToArray());
        output.SetSequence(new DicomTag(0x00120064), codes.Select(CodeItem).ToList());
        // PS3.3 C.7.6.1.1.? Longitudinal Temporal Information Modified (0028,0303).
        output.SetString(new DicomTag(0x00280303), DicomVR.CS, Options.RetainLongitudinalModifiedDates ? "MODIFIED" : "REMOVED");

        var ts = DicomWriter.OutputTransferSyntax(file.TransferSyntax);
        var metadata = new DeidMetadata
        {
            Method = method,
            MethodCodes = codes,
            PatientPseudoId = ctx.PseudoId,
            DateShiftDays = Options.RetainLongitudinalModifiedDates ? ctx.Shift.Days : null,
            Sex = Sex(src),
            AgeBand = AgeBand(src),
            Modality = src.GetString(DicomTag.Modality),
            DeviceId = DeviceId(src),
            BurnedInAnnotation = string.Equals(src.GetString(new DicomTag(0x00280301)), "YES", StringComparison.OrdinalIgnoreCase),
            Masked = masked,
            StudyInstanceUid = output.GetString(DicomTag.StudyInstanceUID) ?? "",
            SeriesInstanceUid = output.GetString(DicomTag.SeriesInstanceUID) ?? "",
            SopInstanceUid = output.GetString(DicomTag.SOPInstanceUID) ?? "",
            Notes = ctx.Notes,
        };
        return new DeidResult(output, ts, metadata);
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
        public bool Cleaned { get; set; }
    }

    void Process(DicomDataset src, DicomOutputDataset dst, Context ctx, int depth, DicomByteSource source)
    {
        var keptPrivateBlocks = new HashSet<uint>();
        foreach (var e in src)
        {
            var tag = e.Tag;
            if (tag.IsGroupLength || tag.Group == 0x0002) continue;
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

            var row = ConfidentialityProfile.Lookup(tag);
            if (row == null)
            {
                // Not in Table E.1-1: kept. Sequences are kept with the profile applied inside; under the dates option,
                // every other date is shifted too, so no absolute date survives anywhere.
                if (e.Items != null) dst.Set(Recurse(e, ctx, depth, source));
                else if (Options.RetainLongitudinalModifiedDates && (e.VR == DicomVR.DA || e.VR == DicomVR.DT)) dst.Set(ShiftDates(e, ctx));
                else dst.Set(DicomOutputElement.From(e, source));
                continue;
            }

            switch (ConfidentialityProfile.Resolve(row, Options))
            {
                case DeidAction.Remove:
                    break;
                case DeidAction.Keep:
                    dst.Set(e.Items != null ? Recurse(e, ctx, depth, source) : DicomOutputElement.From(e, source));
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

    DicomOutputElement Recurse(DicomElement e, Context ctx, int depth, DicomByteSource source)
    {
        var items = new List<DicomOutputDataset>(e.Items!.Count);
        foreach (var item in e.Items)
        {
            var o = new DicomOutputDataset();
            Process(item, o, ctx, depth + 1, source);
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
        if (e.Items != null) { ctx.Cleaned = true; return Recurse(e, ctx, depth, source); }
        if (e.VR == DicomVR.LT || e.VR == DicomVR.ST || e.VR == DicomVR.UT)
        {
            // Narrative text cannot be shown free of identifiers by pattern scrubbing; it is removed until an NLP scrubber exists.
            ctx.Notes.Add($"removed free text {e.Tag} {row.Name}");
            return null;
        }
        if (!e.VR.IsString) return DicomOutputElement.From(e, source);
        var text = string.Join('\\', e.GetStrings());
        var scrubbed = ctx.Scrub.Scrub(text);
        ctx.Cleaned = true;
        if (scrubbed == text) { return DicomOutputElement.From(e, source); }
        var bytes = EncodeLike(e.Parent.CharacterSet, scrubbed);
        if (bytes == null) { ctx.Notes.Add($"removed descriptor {e.Tag} {row.Name} (could not re-encode after cleaning)"); return null; }
        ctx.Notes.Add($"cleaned descriptor {e.Tag} {row.Name}");
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

    (List<string>, List<DeidCode>) MethodRecord(Context ctx)
    {
        var codes = new List<DeidCode> { BasicProfile };
        if (Options.RetainLongitudinalModifiedDates) codes.Add(ModifiedDates);
        if (Options.CleanDescriptors) codes.Add(CleanDescriptors);
        if (Options.RetainDeviceIdentity) codes.Add(DeviceIdentity);
        if (ctx.KeptPrivate) codes.Add(SafePrivate);
        // (0012,0063) is LO: each value at most 64 characters.
        var method = new List<string> { "Casebook PS3.15 E.1 Basic Profile" };
        if (Options.RetainLongitudinalModifiedDates) method.Add("Retain Longitudinal Modified Dates (per-patient shift)");
        if (Options.CleanDescriptors) method.Add("Clean Descriptors");
        if (Options.RetainDeviceIdentity) method.Add("Retain Device Identity");
        if (ctx.KeptPrivate) method.Add("Retain Safe Private");
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

    /// <summary>Keyed hash of manufacturer | model | serial (or station name when there is no serial); null when neither is present.</summary>
    string? DeviceId(DicomDataset ds)
    {
        var serial = ds.GetString(new DicomTag(0x00181000)) ?? ds.GetString(new DicomTag(0x00081010));
        if (string.IsNullOrWhiteSpace(serial)) return null;
        var text = $"{ds.GetString(new DicomTag(0x00080070))}|{ds.GetString(new DicomTag(0x00081090))}|{serial}";
        return "dev-" + Convert.ToHexStringLower(HMACSHA256.HashData(_deviceKey, Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
    }

    // ---- masking ----

    bool ApplyMasks(DicomOutputDataset output, Context ctx)
    {
        if (Options.MaskRegions.Count == 0) return false;
        var pixels = output[DicomTag.PixelData];
        if (pixels == null) return false;
        if (pixels.Fragments != null)
        {
            ctx.Notes.Add("mask regions not applied: pixel data is compressed (encapsulated); decode-and-recompress is not implemented");
            return false;
        }
        int Get(uint t, int dflt) => int.TryParse(DecodeUs(output[new DicomTag(t)]), out var v) ? v : dflt;
        int rows = Get(0x00280010, 0), cols = Get(0x00280011, 0), spp = Get(0x00280002, 1), bits = Get(0x00280100, 8);
        var planar = Get(0x00280006, 0);
        var frames = int.TryParse(output.GetString(DicomTag.NumberOfFrames), out var f) ? Math.Max(1, f) : 1;
        if (rows == 0 || cols == 0 || bits % 8 != 0) { ctx.Notes.Add("mask regions not applied: unsupported pixel layout"); return false; }
        var bytesPer = bits / 8;
        var data = pixels.Value.ToArray();
        var frameBytes = (long)rows * cols * spp * bytesPer;
        for (var fr = 0; fr < frames; fr++)
            foreach (var r in Options.MaskRegions)
                for (var y = Math.Max(0, r.Y); y < Math.Min(rows, r.Y + r.Height); y++)
                    for (var x = Math.Max(0, r.X); x < Math.Min(cols, r.X + r.Width); x++)
                        for (var s = 0; s < spp; s++)
                        {
                            // PS3.3 C.7.6.3.1.3: planar configuration 0 interleaves samples, 1 stores one plane per sample.
                            var index = planar == 0 ? ((long)y * cols + x) * spp + s : (long)s * rows * cols + (long)y * cols + x;
                            var at = fr * frameBytes + index * bytesPer;
                            if (at + bytesPer <= data.Length) data.AsSpan((int)at, bytesPer).Clear();
                        }
        pixels.Value = data;
        ctx.Notes.Add($"masked {Options.MaskRegions.Count} region(s) in {frames} frame(s)");
        return true;
    }

    static string? DecodeUs(DicomOutputElement? e) =>
        e == null || e.Value.Length < 2 ? null : BitConverter.ToUInt16(e.Value.Span[..2]).ToString(CultureInfo.InvariantCulture);
}
