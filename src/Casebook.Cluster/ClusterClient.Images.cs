using System.Text.Json;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Search;
using Casebook.Validation;

namespace Casebook.Cluster;

/// <summary>
/// Image evidence through the cluster: similar cases by an image or by a study's slices, similar regions, and the DICOM
/// instances DICOMweb serves. Query vectors are made here, once, from the same engine code and model one node uses (a
/// study's pooled slice vectors come stored in its record; a region's crop is cut from the slice's bytes in the object
/// store), and every shard searches its own image index with them, so the lists merge and fuse as one node's.
/// </summary>
public sealed partial class ClusterClient
{
    /// <summary>The search a similar-cases query runs (before its limit, filter and one segment per study).</summary>
    async Task<ShardSearchRequest> SimilarRequestAsync(SimilarQuery q, CancellationToken ct)
    {
        if (q.Image != null)
            return new ShardSearchRequest { ImageVector = ShardSearch.EmbedImageQuery(Casebook.Embed.EmbedderCache.Image(null), q.Image), Mode = SearchMode.Hybrid };
        if (q.StudyId == null) return new ShardSearchRequest { Text = q.Text, Mode = SearchMode.Hybrid };
        // The study record from its shard carries its report and its slices' stored vectors: the query is built as on one node.
        var study = await GetStudyAsync(q.StudyId, ct) ?? throw new ArgumentException($"study '{q.StudyId}' does not exist");
        var text = SimilarCases.StudyText(study);
        var pooled = SimilarCases.PooledImage(study);
        if (text == null && pooled == null) throw new ArgumentException($"study '{q.StudyId}' has neither text nor embedded images to compare");
        return new ShardSearchRequest { Text = text, ImageVector = pooled, Mode = SearchMode.Hybrid };
    }

    /// <summary>
    /// `similar --study ID --region SEGMENT:x,y,w,h` through the cluster (<see cref="SimilarCases.Regions"/>): the crop of the
    /// slice (bytes from the object store by content hash, geometry from the study's record) is embedded here; every shard
    /// searches its clinician regions (image_region segments) exactly; the best <paramref name="limit"/> over all shards,
    /// by score, then region id.
    /// </summary>
    public async Task<IReadOnlyList<(string StudyId, string RegionId, string? Label, double Score)>> SimilarRegionsAsync(
        string studyId, string sliceSegmentId, RegionBox box, int limit, CancellationToken ct = default)
    {
        if (limit < 1) throw new ArgumentException("--limit must be at least 1");
        var study = await GetStudyAsync(studyId, ct) ?? throw new ArgumentException($"study '{studyId}' does not exist");
        var slice = study.Segments.FirstOrDefault(g => g.SegmentId == sliceSegmentId && g.Blob != null)
            ?? throw new ArgumentException($"study '{studyId}' has no image segment '{sliceSegmentId}'");
        var (pixels, _) = RegionCrops.Load(await Log.GetBlobAsync(slice.Blob!.Sha256, ct), study.Metadata);
        box.CheckWithin(pixels.Width, pixels.Height, sliceSegmentId);
        var vector = RegionCrops.Embed(Casebook.Embed.EmbedderCache.Image(null), RegionCrops.Crop(pixels, box));
        var result = await SearchAsync(new ShardSearchRequest
        {
            ImageVector = vector, Filter = $"kind = '{SegmentKind.ImageRegion}'", Limit = limit, SegmentsPerStudy = limit, Exact = true,
        }, ct);
        return result.Results.SelectMany(h => h.Matches.Select(m => (h.StudyId, m.SegmentId, m.Text, m.Score)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.SegmentId, StringComparer.Ordinal).Take(limit).ToList();
    }

    /// <summary>
    /// Every DICOM instance the shards serve (each shard's live studies' DICOM slices with their indexed attributes, from its
    /// <c>dicomweb_instances</c> table), in one node's order: by study id, then blob (content hash); a blob once.
    /// </summary>
    public async Task<List<StoredDicomInstance>> DicomInstancesAsync(CancellationToken ct = default)
    {
        var lists = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).DicomInstances())), ct);
        return lists.SelectMany(l => JsonSerializer.Deserialize<List<StoredDicomInstance>>(l)!)
            .OrderBy(i => i.CasebookStudyId, StringComparer.Ordinal).ThenBy(i => i.Blob, StringComparer.Ordinal)
            .DistinctBy(i => i.Blob).ToList();
    }

    // STOWs through this coordinator one at a time: each reads the stored study, merges, and appends the merged study.
    readonly SemaphoreSlim _stow = new(1, 1);

    /// <summary>
    /// DICOMweb STOW-RS through the cluster: one node's <see cref="CasebookDb.StoreDicomInstances"/> (instances are
    /// <b>added</b> to a stored study) run here in a staging database seeded with the live studies the instances belong to
    /// (records from their shards, binaries from the object store), so the merge is the engine's own; each study it changed
    /// is appended to its shard's partition and the call returns once the shards applied it. Versions are the log sequences.
    /// </summary>
    public async Task<IngestResult> StoreDicomAsync(IReadOnlyList<string> files, IngestOptions? options = null, CancellationToken ct = default)
    {
        await _stow.WaitAsync(ct);
        var staging = Path.Combine(Path.GetTempPath(), "casebook-stow-staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var db = CasebookDb.Open(staging, new CasebookOptions { KeyFile = Config.KeyFile });
            // Which studies the instances go to (headers only; the engine reports bad files itself below).
            var discovery = new Casebook.Ingest.Dicom.DicomDiscovery();
            var ignored = new List<IngestError>();
            foreach (var f in files) discovery.AddFile(f, ignored);
            var seed = new WriteBatch();
            foreach (var id in discovery.ToStudyInputs(PatientPseudonym.Load(Config.KeyFile), ignored).Select(i => i.StudyId).Distinct())
                if (await GetStudyAsync(id, ct) is { } stored)
                {
                    foreach (var blob in ShardGrain.Blobs(stored).DistinctBy(b => b.Sha256))
                        if (!db.Blobs.Exists(blob.Sha256)) db.Blobs.Put(await Log.GetBlobAsync(blob.Sha256, ct));
                    seed.Upserts.Add(stored);
                }
            if (!seed.IsEmpty) db.Commit(seed, "stored studies from the cluster", "cluster");
            var result = db.StoreDicomInstances(files, options);
            var changed = result.Versions.ToHashSet();
            var sequences = new List<long>();
            var targets = new Dictionary<int, long>();
            foreach (var study in db.Studies().Where(s => changed.Count > 0 && db.History(s.StudyId) is { Count: > 0 } h && changed.Contains(h[^1].Version)))
            {
                // As IngestAsync: binaries first (by content hash), then the entry; the shard fetches the binaries as it applies.
                foreach (var blob in ShardGrain.Blobs(study).DistinctBy(b => b.Sha256))
                    await Log.PutBlobAsync(blob.Sha256, db.ReadBlob(blob), ct);
                var shard = ShardMap.ShardOf(study.PatientPseudoId, Config.Shards);
                var seq = await Log.AppendAsync(shard, study, ct);
                targets[shard] = Math.Max(targets.GetValueOrDefault(shard), seq);
                sequences.Add(seq);
            }
            await Task.WhenAll(targets.Select(t => CatchUpAsync(t.Key, t.Value, ct)));
            return result with { Versions = sequences };
        }
        finally
        {
            _stow.Release();
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
        }
    }
}
