using System.Text.Json.Nodes;

namespace Casebook.Cluster;

/// <summary>What `codes import --cluster` did: one node's counts and refused rows (file:line: reason), and the table's size after it.</summary>
public sealed record ClusterCodeImportResult(int Imported, IReadOnlyList<string> Errors, long Total);

/// <summary>The ICD-10-CM code table through the cluster (ShardGrain.Codes.cs).</summary>
public sealed partial class ClusterClient
{
    /// <summary>
    /// Imports a CMS ICD-10-CM table into every shard. The file is first read by the engine here (one node's
    /// <see cref="CasebookDb.ImportCodes"/> into a scratch database), so missing or empty files fail and refused rows are
    /// reported exactly as on one node; then it goes to the object store by content hash and one
    /// <see cref="ClusterCodes.Kind"/> entry naming it is appended to every partition. The call returns once every shard
    /// applied its entry; the total is read back from shard 0 (all hold the same table).
    /// </summary>
    public async Task<ClusterCodeImportResult> ImportCodesAsync(string path, string? author = null, CancellationToken ct = default)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "casebook-codes-" + Guid.NewGuid().ToString("N"));
        CodeImportResult checkedRows;
        try
        {
            using var db = CasebookDb.Open(scratch, new CasebookOptions { KeyFile = Config.KeyFile, Author = "cluster" });
            checkedRows = db.ImportCodes(path); // throws as one node does for a missing or empty file
        }
        finally { try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } }
        if (checkedRows.Imported == 0) // nothing to import: one node's table is unchanged, so no entry either
            return new ClusterCodeImportResult(0, checkedRows.Errors, await CodeTotalAsync(0, ct));
        var bytes = await File.ReadAllBytesAsync(path, ct);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        await Log.PutBlobAsync(sha, bytes, ct);
        var who = author ?? new CasebookOptions().Author;
        var entry = ClusterCodes.Entry(sha, Path.GetFileName(path), checkedRows.Imported, who); // the same entry in every partition
        var targets = new Dictionary<int, long>();
        for (var shard = 0; shard < Config.Shards; shard++) targets[shard] = await Log.AppendCodesAsync(shard, entry, ct);
        var answers = await Task.WhenAll(targets.Select(async t =>
        {
            await CatchUpAsync(t.Key, t.Value, ct);
            return JsonNode.Parse(await Retry(() => Shard(t.Key).CodeTable(t.Value), ct))!;
        }));
        if (answers.Select(a => a["error"]?.GetValue<string>()).FirstOrDefault(e => e != null) is { } failed) throw new InvalidOperationException(failed);
        return new ClusterCodeImportResult(checkedRows.Imported, checkedRows.Errors, answers[0]["total"]!.GetValue<long>());
    }

    async Task<long> CodeTotalAsync(int shard, CancellationToken ct) =>
        JsonNode.Parse(await Retry(() => Shard(shard).CodeTable(0), ct))!["total"]!.GetValue<long>();

    /// <summary>`codes lookup --json` for a code, from one shard (shard 0 unless told: every shard holds the same table); null when unknown.</summary>
    public async Task<JsonObject?> LookupCodeAsync(string code, int shard = 0, CancellationToken ct = default) =>
        await Retry(() => Shard(shard).LookupCode(code), ct) is { } json ? JsonNode.Parse(json)!.AsObject() : null;
}
