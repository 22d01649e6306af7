using Casebook.Extract.Anatomy;
using Casebook.Extract.Dicom;
using Casebook.Extract.Volumes;
using Casebook.Model;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Anatomy from pixels at ingest: each CT series of a study is read as a volume and the rule-based masks (body, lungs,
/// bone; <see cref="CtRuleMasks"/>) become <c>anatomical_regions</c> entries with <c>"source": "rule"</c>, keyed by the
/// stored (remapped) series UID. A series that cannot be read as one regular volume is skipped with a note in
/// <c>metadata.anatomy_skipped</c>, never an ingest error.
/// </summary>
internal static class DicomAnatomy
{
    /// <summary>Series above this many voxels are skipped (about 1.2 GB of working memory for the masks).</summary>
    public const long MaxVoxels = 150_000_000;

    /// <param name="volumes">The study's series volumes, read once and shared with the regions (<see cref="DicomRegions.Volume"/>).</param>
    public static void AddCtRuleAnatomy(StudyRecord study, IReadOnlyList<DicomSeries> seriesList, PatientPseudonym key, DicomIngestOptions options, DicomRegions volumes)
    {
        if (!options.CtRuleAnatomy) return;
        foreach (var series in seriesList)
        {
            if (!string.Equals(series.Modality?.Trim(), "CT", StringComparison.OrdinalIgnoreCase)) continue;
            try
            {
                if (volumes.Volume(series) is not { } image) continue;
                var volume = image.Volume;
                if ((long)volume.Count > MaxVoxels) continue;
                var uid = series.SeriesInstanceUID.Length > 0 ? DicomUidMap.Remap(key, series.SeriesInstanceUID) : null;
                StudyAnatomy.AddFromPixels(study, CtRuleMasks.Source, uid, volume, CtRuleMasks.Compute(volume));
            }
            catch (Exception e) when (e is VolumeFormatException or DicomParseException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // Multi-frame, tilted or gapped series: no rule anatomy for it. The study itself is fine, so this is a note
                // on the study, not an ingest error.
                if (study.Metadata["anatomy_skipped"] is not System.Text.Json.Nodes.JsonArray notes)
                    study.Metadata["anatomy_skipped"] = notes = new System.Text.Json.Nodes.JsonArray();
                // The reader's message names source files, whose paths may carry identifiers: only the kind of problem is kept.
                notes.Add($"CT series {series.SeriesNumber?.ToString() ?? "?"}: not one regular volume ({e.GetType().Name})");
            }
        }
    }
}
