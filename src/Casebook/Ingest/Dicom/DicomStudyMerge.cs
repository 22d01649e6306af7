using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Network feeds (DIMSE C-STORE) deliver a study in pieces: one association per series, or a late instance hours later.
/// An ordinary DICOM re-ingest rebuilds a study from the instances it is given; for a feed that would drop the instances of
/// earlier associations. With <see cref="DicomIngestOptions.KeepStoredInstances"/>, the study built from the new instances
/// is merged with its stored row instead:
/// <list type="bullet">
/// <item>stored slices whose instance (remapped SOP Instance UID, <c>Source.File</c>) was not sent again are kept, with their ids
///   and vectors (so validation boxes that name them still hold); a series whose every instance came again is replaced;</item>
/// <item>the new series are numbered after the stored ones (their segment ids move past the highest stored series index);</item>
/// <item>text the new build lacks (a report attached earlier, e.g. from HL7 ORU), its segments, NLP fields, regions and metadata
///   keys are kept from the stored row; <c>metadata.dicom</c> lists the kept and the new series with summed counts.</item>
/// </list>
/// </summary>
internal static class DicomStudyMerge
{
    public static void KeepStored(StudyRecord study, StudyRecord stored)
    {
        var prefix = $"{study.StudyId}/{SegmentKind.ImageSlice}/";
        var resent = study.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.Source.File != null).Select(g => g.Source.File!).ToHashSet(StringComparer.Ordinal);
        // Stored DICOM segments by series index; a series is kept when any of its instances was not sent again.
        var storedSeries = stored.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && SeriesIndex(g.SegmentId, prefix) != null)
            .GroupBy(g => SeriesIndex(g.SegmentId, prefix)!.Value).ToDictionary(g => g.Key, g => g.ToList());
        var keptSeries = storedSeries.Where(kv => kv.Value.Any(g => g.Source.Section == null && g.Source.File != null && !resent.Contains(g.Source.File)))
            .Select(kv => kv.Key).Order().ToList();
        var kept = new List<SegmentRecord>();
        foreach (var k in keptSeries)
            kept.AddRange(storedSeries[k].Where(g => g.Source.Section != null || g.Source.File == null || !resent.Contains(g.Source.File)));
        var offset = storedSeries.Count == 0 ? 0 : storedSeries.Keys.Max() + 1;

        // The new series move past the stored ones (copies: ids are init-only; pending render/pool work moves with them).
        var renamed = new Dictionary<SegmentRecord, SegmentRecord>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < study.Segments.Count; i++)
        {
            var g = study.Segments[i];
            if (g.Kind != SegmentKind.ImageSlice || SeriesIndex(g.SegmentId, prefix) is not { } k || offset == 0) continue;
            var copy = Copy(g, prefix + (k + offset) + g.SegmentId[(prefix + k).Length..]);
            renamed[g] = copy;
            study.Segments[i] = copy;
        }
        foreach (var (old, copy) in renamed)
        {
            if (DicomPending.TryGetFrame(old, out var frame)) DicomPending.Render(copy, frame);
            if (DicomPending.TryGetPool(old, out var pool)) DicomPending.Pool(copy, pool.Select(s => renamed.GetValueOrDefault(s, s)).ToList());
        }
        study.Segments.AddRange(kept);

        // Text and what follows from it: the stored row's, when the new build brings none.
        if (study.ReportText == null && stored.ReportText != null)
        {
            study.ReportText = stored.ReportText;
            study.ReportPdf ??= stored.ReportPdf;
            study.SparseTerms = stored.SparseTerms;
            study.PathologyFindings = stored.PathologyFindings;
            study.RiskFactors = stored.RiskFactors;
            study.AnatomicalRegions = stored.AnatomicalRegions;
            study.ClinicalCodes = stored.ClinicalCodes.Union(study.ClinicalCodes).ToList();
        }
        study.DictationAudio ??= stored.DictationAudio;
        study.DictationAudioMime ??= stored.DictationAudioMime;
        var have = study.Segments.Select(g => g.SegmentId).ToHashSet(StringComparer.Ordinal);
        study.Segments.AddRange(stored.Segments.Where(g => g.Kind != SegmentKind.ImageSlice && !have.Contains(g.SegmentId)));
        if (study.ImageRegions.Count == 0) study.ImageRegions = stored.ImageRegions;

        // Metadata: the kept series' entries first, then the new ones; counts summed; the key slice stays the stored one.
        if (kept.Count > 0 && stored.Metadata["dicom"] is JsonObject oldDicom && study.Metadata["dicom"] is JsonObject newDicom)
        {
            var series = new JsonArray();
            if (oldDicom["series"] is JsonArray oldSeries)
                foreach (var k in keptSeries) if (k < oldSeries.Count) series.Add(oldSeries[k]?.DeepClone());
            if (newDicom["series"] is JsonArray newSeries) foreach (var s in newSeries) series.Add(s?.DeepClone());
            newDicom["series"] = series;
            newDicom["series_count"] = keptSeries.Count + ((int?)newDicom["series_count"] ?? 0);
            var keptSlices = kept.Count(g => g.Source.Section == null && g.Source.Frame != null);
            var keptInstances = kept.Where(g => g.Source.Section == null && g.Source.File != null).Select(g => g.Source.File).Distinct().Count();
            newDicom["slice_count"] = keptSlices + ((int?)newDicom["slice_count"] ?? 0);
            newDicom["instance_count"] = keptInstances + ((int?)newDicom["instance_count"] ?? 0);
        }
        if (study.Metadata["dicom"] is JsonObject dicom)
        {
            var storedKey = stored.Metadata["dicom"]?["key_slice"]?.GetValue<string>();
            if (storedKey != null && kept.Any(g => g.SegmentId == storedKey))
            {
                dicom["key_slice"] = storedKey;
                study.DicomImage = stored.DicomImage;
                study.DicomMime = stored.DicomMime;
            }
            else if (offset > 0 && dicom["key_slice"]?.GetValue<string>() is { } newKey && SeriesIndex(newKey, prefix) is { } nk)
                dicom["key_slice"] = prefix + (nk + offset) + newKey[(prefix + nk).Length..];
        }
        foreach (var (k, v) in stored.Metadata)
            if (v != null && !study.Metadata.ContainsKey(k)) study.Metadata[k] = v.DeepClone();
        if (study.Metadata["source_files"] is JsonArray files && stored.Metadata["source_files"] is JsonArray storedFiles)
            foreach (var f in storedFiles.Select(x => x?.GetValue<string>()).Where(x => x != null).Except(files.Select(x => x?.GetValue<string>())).ToList())
                files.Add(f);
    }

    /// <summary>k of "STUDY/image_slice/k.rest" (DICOM slices, pooled series and thumbnails), or null for other image segments.</summary>
    static int? SeriesIndex(string segmentId, string prefix)
    {
        if (!segmentId.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var rest = segmentId.AsSpan(prefix.Length);
        var dot = rest.IndexOf('.');
        return dot > 0 && int.TryParse(rest[..dot], out var k) ? k : null;
    }

    static SegmentRecord Copy(SegmentRecord g, string id) => new()
    {
        SegmentId = id, Kind = g.Kind, Text = g.Text, Source = g.Source, Blob = g.Blob, BlobMime = g.BlobMime,
        TextEmbedding = g.TextEmbedding, TextModel = g.TextModel, ImageEmbedding = g.ImageEmbedding, ImageModel = g.ImageModel,
    };
}
