using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Extract.Clinical;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Validation;
using Microsoft.Data.Sqlite;

namespace Casebook;

/// <summary>
/// Clinician validation: confirm or reject findings, set diagnoses, draw regions. Each action is one commit (a new version of
/// the study through the ordinary commit path, so as-of reads and restore work unchanged) whose attribution (role, reason,
/// action, the change) is kept in <c>version_attribution</c> beside <c>versions</c> (author, time, message). Optimistic
/// concurrency: the action names the version it started from; if the study changed after it, the commit is refused with
/// <see cref="ValidationConflictException"/> inside the write transaction, so a later editor never silently overwrites.
/// </summary>
public sealed partial class CasebookDb
{
    // A side table rather than a format bump: created idempotently where it is used.
    const string AttributionTable = """
        CREATE TABLE IF NOT EXISTS version_attribution(
            version INTEGER PRIMARY KEY,
            study_id TEXT NOT NULL,
            role TEXT NOT NULL,
            reason TEXT,
            action TEXT NOT NULL,
            change TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS version_attribution_study ON version_attribution(study_id);
        """;

    void EnsureAttributionTable()
    {
        using var c = Connect();
        Exec(c, null, AttributionTable);
    }

    /// <summary>Confirms or rejects a finding of <c>pathology_findings</c> (matched by term, case-insensitively; every
    /// assertion variant of the term is marked). A confirmed finding is affirmed and its codes join <c>clinical_codes</c>;
    /// a rejected one is not and its codes leave them (unless a confirmed diagnosis keeps them).</summary>
    public ValidationResult ValidateFinding(string studyId, string term, string status, Attribution who, long baseVersion, FindingEdit? edit = null)
    {
        if (status is not (FindingStatus.Confirmed or FindingStatus.Rejected))
            throw new ArgumentException($"--status '{status}': expected confirmed or rejected");
        if (string.IsNullOrWhiteSpace(term)) throw new ArgumentException("--finding is empty");
        return Apply(studyId, who, baseVersion, "validate_finding", $"{status} finding '{term}'", study =>
        {
            var matches = study.PathologyFindings.OfType<JsonObject>()
                .Where(f => string.Equals(f["term"]?.GetValue<string>(), term.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();
            if (matches.Count == 0)
            {
                if (status == FindingStatus.Rejected)
                    throw new ArgumentException($"study '{studyId}' has no finding '{term}' to reject; its findings: {FindingTerms(study)}");
                // A clinician may confirm a finding the text did not yield (e.g. an image-only study).
                var added = new JsonObject { ["term"] = term.Trim(), ["category"] = "finding", ["codes"] = new JsonArray(), ["source"] = "clinician" };
                study.PathologyFindings.Add(added);
                matches.Add(added);
            }
            var stamp = Stamp(status, who);
            var edits = edit?.Apply(matches, status);
            if (edits != null) stamp["edits"] = edits;
            // A corrected code replaces the old one in clinical_codes (RecomputeCodes adds the new).
            if (edits?["codes"]?["from"] is JsonArray oldCodes)
                foreach (var old in oldCodes.Select(c => c!.GetValue<string>())) study.ClinicalCodes.Remove(old);
            foreach (var f in matches)
            {
                f["validated"] = true;
                f["confirmed"] = status == FindingStatus.Confirmed;
                f["affirmed"] = status == FindingStatus.Confirmed;
                f["validation"] = stamp.DeepClone();
            }
            RecomputeCodes(study);
            return new JsonObject { ["finding"] = term.Trim(), ["status"] = status, ["matched"] = matches.Count, ["edits"] = edits?.DeepClone() };
        });
    }

    /// <summary>
    /// Sets a diagnosis (ICD-10-CM or SNOMED CT) with a status. Kept in <c>metadata.diagnoses</c> (one entry per system and code,
    /// replaced by a later call); a confirmed one is put first in <c>clinical_codes</c>, a refuted one is removed from them even
    /// when text or billing put it there: a clinician's word outranks derived codes.
    /// </summary>
    public ValidationResult SetDiagnosis(string studyId, string code, string system, string status, Attribution who, long baseVersion, string? display = null)
    {
        if (!DiagnosisStatus.All.Contains(status)) throw new ArgumentException($"--status '{status}': expected confirmed, provisional or refuted");
        if (system is not (CodeSystems.Icd10Cm or CodeSystems.Snomed)) throw new ArgumentException($"--system '{system}': expected icd10cm or snomed");
        var normal = system == CodeSystems.Icd10Cm
            ? ClinicalCodes.Normalise(code) ?? throw new ArgumentException($"--code '{code}' is not an ICD-10-CM code (letter, digit, alphanumeric, then up to 4 more)")
            : code.Trim().All(char.IsAsciiDigit) && code.Trim().Length is >= 6 and <= 18 ? code.Trim()
            : throw new ArgumentException($"--code '{code}' is not a SNOMED CT concept id (6-18 digits)");
        if (system == CodeSystems.Icd10Cm && display == null) display = IcdTitleOrNull(normal);
        return Apply(studyId, who, baseVersion, "diagnose", $"diagnosis {system}:{normal} {status}", study =>
        {
            var list = study.Metadata["diagnoses"] as JsonArray ?? new JsonArray();
            foreach (var old in list.OfType<JsonObject>().Where(d => d["system"]?.GetValue<string>() == system && d["code"]?.GetValue<string>() == normal).ToList())
                list.Remove(old);
            var entry = Stamp(status, who);
            entry.Insert(0, "code", normal);
            entry.Insert(1, "system", system);
            entry.Insert(2, "display", display);
            list.Add(entry);
            study.Metadata["diagnoses"] = list;
            RecomputeCodes(study);
            return new JsonObject { ["code"] = normal, ["system"] = system, ["status"] = status, ["display"] = display };
        });
    }

    /// <summary>
    /// Adds a labelled box on an image slice to <c>image_regions</c>: pixel coordinates, and patient coordinates (mm) when the
    /// slice's DICOM geometry is known. The crop is embedded with the image embedder and stored as an <c>image_region</c> segment
    /// (its label as text), so regions are found by image (<see cref="SimilarRegions"/>) and by label.
    /// </summary>
    public ValidationResult AddRegion(string studyId, string sliceSegmentId, RegionBox box, string label, Attribution who, long baseVersion) =>
        AddRegion(studyId, sliceSegmentId, box, null, label, who, baseVersion);

    /// <summary>
    /// As above for a polygon (pixel vertices, in order): stored with shape "polygon", its vertices in pixel and patient
    /// coordinates; its bounding box is what is cropped and embedded.
    /// </summary>
    public ValidationResult AddRegion(string studyId, string sliceSegmentId, IReadOnlyList<(int X, int Y)> polygon, string label, Attribution who, long baseVersion)
    {
        if (polygon.Count < 3) throw new ArgumentException("a polygon needs at least three vertices");
        int x0 = polygon.Min(p => p.X), y0 = polygon.Min(p => p.Y), x1 = polygon.Max(p => p.X), y1 = polygon.Max(p => p.Y);
        if (x0 < 0 || y0 < 0 || x1 == x0 || y1 == y0) throw new ArgumentException("a polygon needs non-negative vertices that enclose an area");
        return AddRegion(studyId, sliceSegmentId, new RegionBox(x0, y0, x1 - x0 + 1, y1 - y0 + 1), polygon, label, who, baseVersion);
    }

    ValidationResult AddRegion(string studyId, string sliceSegmentId, RegionBox box, IReadOnlyList<(int X, int Y)>? polygon, string label, Attribution who, long baseVersion)
    {
        if (string.IsNullOrWhiteSpace(label)) throw new ArgumentException("--label is empty");
        return Apply(studyId, who, baseVersion, "region", $"region '{label}' on {sliceSegmentId}", study =>
        {
            var slice = study.Segments.FirstOrDefault(g => g.SegmentId == sliceSegmentId)
                ?? throw new ArgumentException($"study '{studyId}' has no segment '{sliceSegmentId}'; its slices: {string.Join(", ", study.Segments.Where(g => g.Kind == SegmentKind.ImageSlice).Select(g => g.SegmentId))}");
            if (slice.Kind != SegmentKind.ImageSlice || slice.Blob == null)
                throw new ArgumentException($"segment '{sliceSegmentId}' is a {slice.Kind}{(slice.Blob == null ? " without image" : "")}, not an image slice");
            var bytes = ReadBlob(slice.Blob);
            var (pixels, geometry) = RegionCrops.Load(bytes, study.Metadata);
            box.CheckWithin(pixels.Width, pixels.Height, sliceSegmentId);
            var crop = RegionCrops.Crop(pixels, box);
            var vector = RegionCrops.Embed(ImageEmbedder, crop);
            var n = study.Segments.Count(g => g.Kind == SegmentKind.ImageRegion) + 1;
            var segmentId = $"{studyId}/image_region/{n}";
            while (study.Segments.Any(g => g.SegmentId == segmentId)) segmentId = $"{studyId}/image_region/{++n}";
            study.Segments.Add(new SegmentRecord
            {
                SegmentId = segmentId, Kind = SegmentKind.ImageRegion, Text = label.Trim(),
                Source = new SourceLocation { File = slice.Source.File, Frame = slice.Source.Frame, Position = slice.Source.Position },
                Blob = slice.Blob, BlobMime = slice.BlobMime,
                ImageEmbedding = vector, ImageModel = ImageEmbedder.Model.Id,
            });
            var region = new JsonObject
            {
                ["region_id"] = segmentId, ["slice"] = sliceSegmentId, ["label"] = label.Trim(), ["shape"] = polygon == null ? "box" : "polygon",
                ["pixel"] = new JsonObject { ["x"] = box.X, ["y"] = box.Y, ["w"] = box.W, ["h"] = box.H },
                // A polygon's patient coordinates are its vertices; a box's are its four corners.
                ["patient"] = polygon == null ? geometry?.Corners(box) : geometry?.Points(polygon.Select(p => ((double)p.X, (double)p.Y))),
                ["patient_coordinates"] = geometry == null ? "unavailable: the slice has no ImagePositionPatient/ImageOrientationPatient/PixelSpacing" : "mm, DICOM patient coordinate system (LPS)",
            };
            if (polygon != null)
                region["pixel"]!["points"] = new JsonArray(polygon.Select(p => (JsonNode)new JsonArray(p.X, p.Y)).ToArray());
            foreach (var kv in Stamp("drawn", who)) region[kv.Key] = kv.Value?.DeepClone();
            study.ImageRegions.Add(region);
            return region.DeepClone();
        });
    }

    /// <summary>Read, change, commit with the base-version check inside the write transaction.</summary>
    ValidationResult Apply(string studyId, Attribution who, long baseVersion, string action, string message, Func<StudyRecord, JsonNode> change)
    {
        ValidationRoles.Check(who);
        EnsureAttributionTable();
        var current = CurrentVersion;
        if (baseVersion < 1 || baseVersion > current) throw new ArgumentException($"--base-version {baseVersion} does not exist (versions are 1..{current})");
        var study = GetStudy(studyId) ?? throw new ArgumentException($"study '{studyId}' does not exist");
        var changedAt = LastChange(studyId, null, null);
        if (changedAt > baseVersion) throw new ValidationConflictException(studyId, baseVersion, changedAt);
        var what = change(study);
        var batch = new WriteBatch();
        batch.Upserts.Add(study);
        var result = Commit(batch, message + (who.Reason != null ? $": {who.Reason}" : ""), who.Author,
            check: (c, tx) =>
            {
                // Re-checked under the write lock: another editor may have committed since the read above.
                var latest = LastChange(studyId, c, tx);
                if (latest > baseVersion) throw new ValidationConflictException(studyId, baseVersion, latest);
            },
            recorded: (c, tx, v) => Exec(c, tx, "INSERT INTO version_attribution(version, study_id, role, reason, action, change) VALUES (@v, @s, @r, @why, @a, @c)",
                ("@v", v), ("@s", studyId), ("@r", who.Role), ("@why", who.Reason), ("@a", action), ("@c", what.ToJsonString())));
        if (result.Version == null) throw new InvalidOperationException($"study '{studyId}' already has this {action}: nothing changed, no version made");
        return new ValidationResult(studyId, result.Version.Value, action, what);
    }

    /// <summary>The latest version that created, changed or deleted the study.</summary>
    long LastChange(string studyId, SqliteConnection? c, SqliteTransaction? tx)
    {
        var own = c == null;
        c ??= Connect();
        try { return Scalar<long>(c, tx, "SELECT COALESCE(MAX(MAX(v_from, COALESCE(v_to, 0))), 0) FROM studies WHERE study_id = @id", ("@id", studyId)); }
        finally { if (own) c.Dispose(); }
    }

    static JsonObject Stamp(string status, Attribution who) => new()
    {
        ["status"] = status, ["author"] = who.Author, ["role"] = who.Role, ["time"] = who.Time ?? Now(), ["reason"] = who.Reason,
    };

    static string FindingTerms(StudyRecord s)
    {
        var terms = s.PathologyFindings.OfType<JsonObject>().Select(f => f["term"]?.GetValue<string>()).Where(t => t != null).Distinct().ToList();
        return terms.Count == 0 ? "(none)" : string.Join(", ", terms);
    }

    string? IcdTitleOrNull(string code)
    {
        try { return LookupCode(code)?.Display; } catch (SqliteException) { return null; } // no code table imported
    }

    /// <summary>
    /// clinical_codes after validation: confirmed diagnoses first (they outrank), then the other codes, less those of rejected
    /// findings and refuted diagnoses; codes of confirmed findings are added.
    /// </summary>
    internal static void RecomputeCodes(StudyRecord study)
    {
        var diagnoses = (study.Metadata["diagnoses"] as JsonArray ?? new JsonArray()).OfType<JsonObject>().ToList();
        string Key(JsonObject d) => CodeSystems.Prefix(d["system"]!.GetValue<string>()) + d["code"]!.GetValue<string>();
        var confirmed = diagnoses.Where(d => d["status"]?.GetValue<string>() == DiagnosisStatus.Confirmed).Select(Key).ToList();
        var refuted = diagnoses.Where(d => d["status"]?.GetValue<string>() == DiagnosisStatus.Refuted).Select(Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var rejected = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var findingCodes = new List<string>();
        foreach (var f in study.PathologyFindings.OfType<JsonObject>().Where(f => f["validated"]?.GetValue<bool>() == true))
        {
            var codes = (f["codes"] as JsonArray ?? new JsonArray()).Select(c => c!.GetValue<string>());
            if (f["confirmed"]?.GetValue<bool>() == true) findingCodes.AddRange(codes); else rejected.UnionWith(codes);
        }
        rejected.ExceptWith(confirmed);
        rejected.ExceptWith(findingCodes);
        var rest = study.ClinicalCodes.Concat(findingCodes).Where(c => !refuted.Contains(c) && !rejected.Contains(c));
        study.ClinicalCodes = confirmed.Concat(rest).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
