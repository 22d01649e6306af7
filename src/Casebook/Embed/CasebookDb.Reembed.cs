using Casebook.Model;
using Casebook.Storage;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// Re-embeds one vector column ("text" or "image") of every live study with the configured model, as new
    /// versions (batches of <paramref name="batchSize"/> studies). Needed after switching models: searching one
    /// model's vectors with another's query vectors is refused. Only vectors some model made are replaced: a clinician's
    /// region label has text but no text vector (the region is found by its crop), and re-embedding must not invent one.
    /// </summary>
    public IReadOnlyList<long> Reembed(string kind, int batchSize = 256, IProgress<Progress>? progress = null)
    {
        if (kind is not ("text" or "image")) throw new ArgumentException($"kind must be 'text' or 'image', not '{kind}'");
        var modelId = kind == "text" ? TextEmbedder.Model.Id : ImageEmbedder.Model.Id;
        var ids = Studies(withSegments: false).Select(s => s.StudyId).ToList();
        var versions = new List<long>();
        var done = 0;
        foreach (var chunk in ids.Chunk(batchSize))
        {
            var batch = new WriteBatch();
            foreach (var id in chunk)
            {
                var study = GetStudy(id)!;
                var changed = false;
                foreach (var g in study.Segments)
                {
                    if (kind == "text" && g.Text != null && g.TextModel != null && g.TextModel != modelId) { g.TextEmbedding = null; g.TextModel = modelId; changed = true; }
                    if (kind == "image" && g.Kind == SegmentKind.ImageSlice && g.Blob != null && g.ImageModel != modelId) { g.ImageEmbedding = null; g.ImageModel = modelId; changed = true; }
                }
                if (changed) batch.Upserts.Add(study);
            }
            var errors = new List<Ingest.IngestError>();
            EmbedStudies(batch.Upserts, errors, null, 0, 0);
            if (errors.Count > 0) throw new InvalidDataException($"re-embedding failed for {errors[0].File}: {errors[0].Reason}");
            done += chunk.Length;
            progress?.Report(new Progress("reembed", done, ids.Count));
            if (batch.IsEmpty) continue;
            if (Commit(batch, $"re-embed {kind} with {modelId}").Version is { } v) versions.Add(v);
        }
        return versions;
    }
}
