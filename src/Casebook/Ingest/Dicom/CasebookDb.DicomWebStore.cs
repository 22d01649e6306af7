using System.Text.Json.Nodes;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// DICOMweb STOW-RS (the server's <c>/dicomweb/studies</c>): stores DICOM instances through the DICOM ingest path
    /// (discovery, PS3.15 de-identification, UID remap, slicing, embedding), but <b>adds</b> them to a live study instead of
    /// replacing it: a PACS sends a study over several requests (Orthanc: 10 instances per request by default), so the
    /// instances a study already holds stay, with their vectors, and so do its report, dictation, regions and timeline.
    /// An instance sent again replaces its stored self. Bad instances are reported in <see cref="IngestResult.Errors"/>
    /// by file; the rest go on. One version per batch of studies that changed.
    /// </summary>
    public IngestResult StoreDicomInstances(IReadOnlyList<string> files, IngestOptions? options = null)
    {
        options ??= new IngestOptions();
        var errors = new List<IngestError>();
        var key = PatientPseudonym.Load(Options.KeyFile);
        var discovery = new DicomDiscovery();
        foreach (var f in files) discovery.AddFile(f, errors);
        var inputs = discovery.ToStudyInputs(key, errors);
        using var builder = new StudyBuilder(Blobs, key, options) { Errors = errors, Deidentifier = DicomDeidentification.Factory(key, options.Dicom) };
        var live = LiveContentHashes();
        int inserted = 0, updated = 0, unchanged = 0;
        var versions = new List<long>();
        foreach (var chunk in inputs.Chunk(Math.Max(1, options.BatchSize)))
        {
            var batch = new WriteBatch();
            foreach (var input in chunk)
            {
                try
                {
                    var study = builder.Build(WithLiveFhirText(input, live, out var liveRow));
                    MergeFhirAndTimeline(study, input, liveRow, options);
                    if (live.ContainsKey(study.StudyId) && GetStudy(study.StudyId) is { } stored) KeepStoredContent(study, stored);
                    StampModels(study);
                    if (live.TryGetValue(study.StudyId, out var hash) && hash == ContentHash.Of(study)) { unchanged++; continue; }
                    batch.Upserts.Add(study);
                }
                catch (IngestFileException e) { errors.Add(new IngestError(e.File, e.Message)); }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
                {
                    // The whole study failed (no readable image instance): every one of its files carries the reason.
                    foreach (var source in input.ImagePaths) errors.Add(new IngestError(source, e.Message));
                }
            }
            EmbedStudies(batch.Upserts, errors, null, 0, inputs.Count);
            if (batch.IsEmpty) continue;
            var result = Commit(batch, options.Message ?? $"dicomweb store {batch.Upserts.Count} studies");
            if (result.Version is { } v) versions.Add(v);
            inserted += result.Inserted; updated += result.Updated; unchanged += result.Unchanged;
        }
        return new IngestResult(inputs.Count, inserted, updated, unchanged, versions, errors);
    }

    /// <summary>
    /// Adds to a freshly built DICOM study what its live row holds that this request did not bring: image slices of other
    /// instances (same series → numbered after the new ones; other series → appended with their pooled and thumbnail
    /// segments and metadata), and, when the request brought no report, the row's text, dictation, regions and annotations.
    /// </summary>
    static void KeepStoredContent(StudyRecord study, StudyRecord stored)
    {
        static bool IsDicomSlice(SegmentRecord g) => g.Kind == SegmentKind.ImageSlice && g.BlobMime == DicomSlicer.Mime && g.Source.File != null && g.Source.Section == null;
        var newSops = study.Segments.Where(IsDicomSlice).Select(g => g.Source.File!).ToHashSet(StringComparer.Ordinal);
        var dicom = study.Metadata["dicom"] as JsonObject;
        var newSeries = dicom?["series"] as JsonArray ?? new JsonArray();
        var storedSeries = stored.Metadata["dicom"]?["series"] as JsonArray ?? new JsonArray();
        var indexByUid = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < newSeries.Count; i++)
            if (newSeries[i]?["series_uid"]?.GetValue<string>() is { Length: > 0 } uid) indexByUid.TryAdd(uid, i);

        // Stored image segments by their series index (segment ids are STUDY/image_slice/SERIES.N, .series or .thumbnail).
        var prefix = $"{stored.StudyId}/{SegmentKind.ImageSlice}/";
        var bySeries = stored.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.SegmentId.StartsWith(prefix, StringComparison.Ordinal))
            .GroupBy(g => { var rest = g.SegmentId[prefix.Length..]; var dot = rest.IndexOf('.'); return dot > 0 && int.TryParse(rest[..dot], out var s) ? s : -1; })
            .Where(g => g.Key >= 0).OrderBy(g => g.Key);
        int keptInstances = 0, keptSlices = 0;
        foreach (var group in bySeries)
        {
            var kept = group.Where(g => IsDicomSlice(g) && !newSops.Contains(g.Source.File!)).ToList();
            if (kept.Count == 0) continue;
            var uid = group.Key < storedSeries.Count ? storedSeries[group.Key]?["series_uid"]?.GetValue<string>() : null;
            keptInstances += kept.Select(g => g.Source.File).Distinct().Count();
            keptSlices += kept.Count;
            if (uid != null && indexByUid.TryGetValue(uid, out var t))
            {
                // Same series: the kept slices follow the new ones; the pooled vector is remade over both.
                var seriesPrefix = $"{study.StudyId}/{SegmentKind.ImageSlice}/{t}.";
                bool InSeries(SegmentRecord g) => g.SegmentId.StartsWith(seriesPrefix, StringComparison.Ordinal) && g.Source.Section == null;
                // One order whatever order the instances arrived in (so a re-sent instance changes nothing): along z, then
                // instance and frame; renumbered, with the new slices' pending renders moved to their renamed segments.
                var slices = study.Segments.Where(InSeries).Concat(kept)
                    .OrderBy(g => g.Source.Position is { Length: 3 } p ? p[2] : double.MaxValue)
                    .ThenBy(g => g.Source.File, StringComparer.Ordinal).ThenBy(g => g.Source.Frame ?? 0).ToList();
                var at = study.Segments.FindIndex(InSeries);
                study.Segments.RemoveAll(InSeries);
                var renumbered = slices.Select((g, i) =>
                {
                    var r = Renamed(g, seriesPrefix + i);
                    if (DicomPending.TryGetFrame(g, out var frame)) DicomPending.Render(r, frame);
                    return r;
                }).ToList();
                study.Segments.InsertRange(Math.Max(0, at), renumbered);
                if (t == 0 && dicom != null)
                {
                    // The key instance is the middle slice of the first series (as DicomSlicer picks it), now of the merged series.
                    var middle = renumbered[renumbered.Count / 2];
                    if (middle.Blob != null) { study.DicomImage = middle.Blob; study.DicomMime = DicomSlicer.Mime; }
                    dicom["key_slice"] = middle.SegmentId;
                }
                var pooled = study.Segments.FirstOrDefault(g => g.SegmentId == seriesPrefix + "series");
                var members = study.Segments.Where(g => g.SegmentId.StartsWith(seriesPrefix, StringComparison.Ordinal) && g.Source.Section == null
                    && (g.ImageEmbedding != null || DicomPending.WillEmbed(g))).ToList();
                if (members.Count >= 2)
                {
                    if (pooled == null) study.Segments.Add(pooled = new SegmentRecord { SegmentId = seriesPrefix + "series", Kind = SegmentKind.ImageSlice, Source = new SourceLocation { Section = "series" } });
                    pooled.ImageEmbedding = null;
                    DicomPending.Pool(pooled, members);
                }
                // The stored series' description stays (so which instance a request carried does not change it); counts are the merged ones.
                var seriesObject = group.Key < storedSeries.Count && storedSeries[group.Key] is JsonObject sso ? (JsonObject)sso.DeepClone() : newSeries[t] as JsonObject;
                if (seriesObject != null)
                {
                    seriesObject["slices"] = renumbered.Count;
                    seriesObject["embedded"] = members.Count;
                    if (!ReferenceEquals(seriesObject, newSeries[t])) newSeries[t] = seriesObject;
                }
            }
            else
            {
                // A series this request did not touch: appended whole, with its pooled and thumbnail segments.
                var u = newSeries.Count;
                var seriesPrefix = $"{study.StudyId}/{SegmentKind.ImageSlice}/{u}.";
                var n = 0;
                foreach (var g in group)
                    if (IsDicomSlice(g)) { if (!newSops.Contains(g.Source.File!)) study.Segments.Add(Renamed(g, seriesPrefix + n++)); }
                    else study.Segments.Add(Renamed(g, seriesPrefix + g.SegmentId[(g.SegmentId.IndexOf('.', prefix.Length) + 1)..]));
                var meta = group.Key < storedSeries.Count && storedSeries[group.Key] is JsonObject sm ? (JsonObject)sm.DeepClone() : new JsonObject { ["series_uid"] = uid };
                meta["slices"] = n;
                newSeries.Add(meta);
                if (uid != null) indexByUid[uid] = u;
            }
        }
        if (dicom != null && keptSlices > 0)
        {
            // A merge: what the stored row says about the study (header-derived metadata, de-identification record, modality,
            // date) stays, so that the instance a request happens to carry does not rewrite it; the counts are recomputed.
            string[] counts = ["series", "series_count", "instance_count", "slice_count", "key_slice"];
            if (stored.Metadata["dicom"] is JsonObject storedDicom)
            {
                foreach (var k in dicom.Select(p => p.Key).Where(k => !counts.Contains(k) && !storedDicom.ContainsKey(k)).ToList()) dicom.Remove(k);
                foreach (var (k, v) in storedDicom)
                    if (!counts.Contains(k)) dicom[k] = v?.DeepClone();
            }
            foreach (var (k, v) in stored.Metadata)
                if (k is not "dicom" and not "source_files" && v != null) study.Metadata[k] = v.DeepClone();
            study.Modality = stored.Modality ?? study.Modality;
            study.ExamDate = stored.ExamDate ?? study.ExamDate;
            dicom["series"] = newSeries;
            dicom["series_count"] = newSeries.Count;
            dicom["instance_count"] = (dicom["instance_count"]?.GetValue<int>() ?? 0) + keptInstances;
            dicom["slice_count"] = (dicom["slice_count"]?.GetValue<int>() ?? 0) + keptSlices;
        }

        // What DICOM instances do not bring (STOW never carries a typed report): the stored report, dictation and the rest.
        if (study.ReportText == null && stored.ReportText != null)
        {
            study.ReportText = stored.ReportText;
            study.ReportPdf = stored.ReportPdf;
            study.SparseTerms = stored.SparseTerms;
            study.ClinicalCodes = stored.ClinicalCodes;
            study.AnatomicalRegions = stored.AnatomicalRegions;
            study.PathologyFindings = stored.PathologyFindings;
            study.RiskFactors = stored.RiskFactors;
        }
        study.DictationAudio ??= stored.DictationAudio;
        study.DictationAudioMime ??= stored.DictationAudioMime;
        if (study.ImageRegions.Count == 0) study.ImageRegions = stored.ImageRegions;
        if (study.TimelineEvents.Count == 0) study.TimelineEvents = stored.TimelineEvents;
        var present = study.Segments.Select(g => g.SegmentId).ToHashSet(StringComparer.Ordinal);
        foreach (var g in stored.Segments.Where(g => g.Kind != SegmentKind.ImageSlice && !present.Contains(g.SegmentId))) study.Segments.Add(g);
        foreach (var (k, v) in stored.Metadata)
            if (v != null && !study.Metadata.ContainsKey(k)) study.Metadata[k] = v.DeepClone();
        if (study.Metadata["source_files"] is JsonArray files && stored.Metadata["source_files"] is JsonArray storedFiles)
        {
            var names = files.Select(x => x?.ToString()).ToHashSet(StringComparer.Ordinal);
            foreach (var f in storedFiles.Select(x => x?.ToString()).Where(x => x != null && names.Add(x)).ToList()) files.Add(f);
        }
    }

    static SegmentRecord Renamed(SegmentRecord g, string id) => new()
    {
        SegmentId = id, Kind = g.Kind, Text = g.Text, Source = g.Source, Blob = g.Blob, BlobMime = g.BlobMime,
        TextEmbedding = g.TextEmbedding, TextModel = g.TextModel, ImageEmbedding = g.ImageEmbedding, ImageModel = g.ImageModel,
    };
}
