using System.Text.Json.Nodes;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Storage;

namespace Casebook.Cluster;

/// <summary>
/// The hospital feeds through the cluster (`serve --cluster F --dimse-port P --mllp-port Q`). Each change runs the single
/// node's own engine call (DIMSE: <see cref="CasebookDb.Ingest"/> with <see cref="DicomIngestOptions.KeepStoredInstances"/>;
/// ORU^R01: <see cref="CasebookDb.AddReceivedReport"/>) in a staging database seeded with the live studies it can touch
/// (records from their shards, binaries from the object store); every study the call changed is appended to its shard's
/// partition, and the call returns once those shards applied it. So a study sent over two associations merges as on one
/// node, and a report attaches to the study its accession names wherever that study lives. Versions are log sequences.
/// These writes and DICOMweb STOW share one lock on this coordinator (read, merge, append must not interleave).
/// </summary>
public sealed partial class ClusterClient
{
    /// <summary>A DIMSE association's spool folder, merged into the stored studies as the single-node feed does.</summary>
    public async Task<IngestResult> IngestDicomFeedAsync(string folder, IngestOptions options, CancellationToken ct = default)
    {
        // Which studies the instances go to (headers only; the engine reports bad files itself).
        var discovery = new DicomDiscovery();
        var ignored = new List<IngestError>();
        foreach (var f in Directory.GetFiles(folder, "*", SearchOption.AllDirectories)) discovery.AddFile(f, ignored);
        var ids = discovery.ToStudyInputs(PatientPseudonym.Load(Config.KeyFile), ignored).Select(i => i.StudyId).Distinct().ToList();
        var (result, sequences) = await StageAsync(ids, db => db.Ingest([folder], options), ct);
        return result with { Versions = sequences };
    }

    /// <summary>
    /// A received report (HL7 ORU^R01): the accession is resolved over every shard's live studies exactly as one node's
    /// linker does (plain and keyed accessions); the studies it names and the report-only study it would make are seeded,
    /// so the engine attaches, refuses (another patient's study) or makes the report-only study as on one node.
    /// </summary>
    public async Task<ReceivedReportResult> AddReceivedReportAsync(ReceivedReport report, IngestOptions options, CancellationToken ct = default)
    {
        var key = PatientPseudonym.Load(Config.KeyFile);
        var wanted = report.Accessions.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => StudyLinker.AccessionKey(key, a)).ToHashSet(StringComparer.Ordinal);
        var lists = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).StudyReferences())), ct);
        var seed = new List<string>();
        foreach (var r in lists.SelectMany(l => JsonNode.Parse(l)!.AsArray()))
        {
            var accession = r!["accession"]?.GetValue<string>();
            var accessionKey = r["accession_key"]?.GetValue<string>();
            if ((!string.IsNullOrWhiteSpace(accession) && wanted.Contains(StudyLinker.AccessionKey(key, accession)))
                || (!string.IsNullOrWhiteSpace(accessionKey) && wanted.Contains(accessionKey)))
                seed.Add(r["id"]!.GetValue<string>());
        }
        if (report.Accessions.FirstOrDefault(a => !string.IsNullOrWhiteSpace(a)) is { } first)
            seed.Add(CasebookDb.ReportOnlyStudyPrefix + StudyLinker.AccessionKey(key, first.Trim())[..20]);
        var (result, sequences) = await StageAsync(seed, db => db.AddReceivedReport(report, options), ct);
        return result with { Version = sequences.Count > 0 ? sequences[^1] : null };
    }

    /// <summary>
    /// Runs <paramref name="apply"/> in a staging database holding the live studies <paramref name="seedIds"/> names (those
    /// that exist), then appends every study it changed to its shard and waits until the shards applied them.
    /// </summary>
    async Task<(T Result, List<long> Sequences)> StageAsync<T>(IReadOnlyCollection<string> seedIds, Func<CasebookDb, T> apply, CancellationToken ct)
    {
        await _stow.WaitAsync(ct); // one read-merge-append at a time (shared with STOW, ClusterClient.Images.cs)
        var staging = Path.Combine(Path.GetTempPath(), "casebook-feed-staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var db = CasebookDb.Open(staging, new CasebookOptions { KeyFile = Config.KeyFile });
            var seed = new WriteBatch();
            foreach (var id in seedIds.Distinct(StringComparer.Ordinal))
                if (await GetStudyAsync(id, ct) is { } stored)
                {
                    foreach (var blob in ShardGrain.Blobs(stored).DistinctBy(b => b.Sha256))
                        if (!db.Blobs.Exists(blob.Sha256)) db.Blobs.Put(await Log.GetBlobAsync(blob.Sha256, ct));
                    seed.Upserts.Add(stored);
                }
            if (!seed.IsEmpty) db.Commit(seed, "stored studies from the cluster", "cluster");
            var seeded = db.CurrentVersion;
            var result = apply(db);
            var sequences = new List<long>();
            var targets = new Dictionary<int, long>();
            foreach (var study in db.Studies().Where(s => db.History(s.StudyId) is { Count: > 0 } h && h[^1].Version > seeded))
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
            return (result, sequences);
        }
        finally
        {
            _stow.Release();
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
        }
    }
}
