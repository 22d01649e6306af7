using System.Text.Json.Nodes;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Model;
using Casebook.Validation;

namespace Casebook;

/// <summary>
/// Regions of interest (issue 8): the study's <c>image_regions</c> — clinician boxes and polygons, and masks imported from
/// DICOM SEG, RTSTRUCT and NIfTI — read back for the <c>regions</c> verb, and the crop embedding of imported regions at ingest.
/// </summary>
public sealed partial class CasebookDb
{
    /// <summary>The study's regions (a copy), or throws when the study does not exist.</summary>
    public JsonArray Regions(string studyId)
    {
        var study = GetStudy(studyId) ?? throw new ArgumentException($"study '{studyId}' does not exist");
        return (JsonArray)study.ImageRegions.DeepClone();
    }

    /// <summary>
    /// Imported regions: embeds the crop of each region's bounding box on its middle slice (rendered as at ingest), so
    /// similar-region search finds them as it finds clinician regions. A crop that cannot be rendered is reported; the
    /// region keeps its label (text) vector.
    /// </summary>
    void EmbedRegionCrops(List<StudyRecord> studies, List<IngestError> errors)
    {
        foreach (var study in studies)
            foreach (var g in study.Segments)
            {
                if (g.Kind != SegmentKind.ImageRegion || g.ImageEmbedding != null || g.Blob == null || !RegionPending.TryGetCrop(g, out var box)) continue;
                try
                {
                    var (pixels, _) = RegionCrops.Load(Blobs.Read(g.Blob), null);
                    var clipped = new RegionBox(Math.Min(box.X, pixels.Width - 1), Math.Min(box.Y, pixels.Height - 1),
                        Math.Max(1, Math.Min(box.W, pixels.Width - box.X)), Math.Max(1, Math.Min(box.H, pixels.Height - box.Y)));
                    g.ImageEmbedding = RegionCrops.Embed(ImageEmbedder, RegionCrops.Crop(pixels, clipped));
                    g.ImageModel = ImageEmbedder.Model.Id;
                }
                catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException or Casebook.Extract.Dicom.Pixels.PixelDecodeException or Casebook.Extract.Dicom.DicomParseException)
                {
                    errors.Add(new IngestError(study.StudyId, $"region '{g.Text}' crop not embedded: {e.Message}"));
                }
            }
    }
}
