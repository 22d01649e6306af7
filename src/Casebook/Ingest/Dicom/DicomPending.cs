using System.Runtime.CompilerServices;
using Casebook.Model;

namespace Casebook.Ingest.Dicom;

/// <summary>A frame to render and embed: frame index within the instance at <paramref name="Source"/>; Frame = -1 means the whole tiled image (slide thumbnail).</summary>
public sealed record DicomFrameRef(string Source, int Frame, string? Modality, string? BodyPart);

/// <summary>
/// Embedding work a DICOM study's segments still need, attached to the segments without widening the stored model:
/// rendering waits until after the content-hash check (an unchanged study is never decoded again), and a series'
/// pooled vector waits for its slices. Keyed by object identity; entries vanish with their segments.
/// </summary>
internal static class DicomPending
{
    static readonly ConditionalWeakTable<SegmentRecord, DicomFrameRef> Frames = new();
    static readonly ConditionalWeakTable<SegmentRecord, List<SegmentRecord>> Pools = new();

    public static void Render(SegmentRecord segment, DicomFrameRef frame) => Frames.AddOrUpdate(segment, frame);
    public static void Pool(SegmentRecord series, List<SegmentRecord> slices) => Pools.AddOrUpdate(series, slices);
    public static bool TryGetFrame(SegmentRecord segment, out DicomFrameRef frame) => Frames.TryGetValue(segment, out frame!);
    public static bool TryGetPool(SegmentRecord segment, out List<SegmentRecord> slices) => Pools.TryGetValue(segment, out slices!);
    /// <summary>True when this segment will get an image vector (rendered frame or pooled series).</summary>
    public static bool WillEmbed(SegmentRecord segment) => Frames.TryGetValue(segment, out _) || Pools.TryGetValue(segment, out _);
}
