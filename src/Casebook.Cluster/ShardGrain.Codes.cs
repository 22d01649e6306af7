using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>The ICD-10-CM table after applying the log up to <paramref name="sequence"/>: {"total": codes, "error": why the
    /// code import entry at that sequence was not applied, or null}.</summary>
    [ResponseTimeout("00:05:00")] // the catch-up may import a whole CMS table
    Task<string> CodeTable(long sequence);

    /// <summary>`codes lookup --json` for one code, from this shard's table (every shard holds the same); null when unknown.</summary>
    Task<string?> LookupCode(string code);
}

/// <summary>
/// The ICD-10-CM code table through the log. <c>diagnose</c> takes an ICD-10-CM display from the table of the study's shard
/// (<see cref="CasebookDb.SetDiagnosis"/>), so every shard must hold the same table at the same point of its partition: an
/// import is one entry of kind <see cref="Kind"/> in EVERY partition, naming the file's blob (the object store, by content
/// hash) and its name. A shard applying it fetches the blob and runs one node's <see cref="CasebookDb.ImportCodes"/>; a
/// re-applied entry replaces the same displays (nothing changes). The table is reference data, not versioned study
/// content, so the entry makes no version; it is recorded in <c>cluster_entries</c> like any command.
/// </summary>
public static class ClusterCodes
{
    public const string Kind = "codes_import";

    /// <summary>The side table naming the blobs of code imports this shard applied: gc keeps them (a rebuild from the log reads them).</summary>
    internal const string FilesTable = "CREATE TABLE IF NOT EXISTS cluster_code_files(seq INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, file TEXT)";

    public static ClusterCommand Entry(string sha256, string fileName, int rows, string author) => new()
    {
        Command = Kind, Author = author, Time = ClusterCommand.NowTime(),
        Args = new JsonObject { ["sha256"] = sha256, ["file"] = fileName, ["rows"] = rows },
    };

    /// <summary>`codes lookup --json`: the code, its display, ancestors (nearest first) and up to 50 codes under it.</summary>
    public static JsonObject LookupJson(ClinicalCodeInfo info, IEnumerable<(string Code, string Display)> under) => new()
    {
        ["code"] = info.Code, ["display"] = info.Display,
        ["ancestors"] = new JsonArray(info.Ancestors.Select(x => (JsonNode)new JsonObject { ["code"] = x.Code, ["display"] = x.Display }).ToArray()),
        ["children"] = new JsonArray(under.Where(c => c.Code != info.Code).Select(x => (JsonNode)new JsonObject { ["code"] = x.Code, ["display"] = x.Display }).ToArray()),
    };
}

public sealed partial class ShardGrain
{
    /// <summary>Outcomes of code import entries applied by this activation (null: applied), for the coordinator's read-back.</summary>
    readonly Dictionary<long, string?> _codeOutcomes = new();

    /// <summary>
    /// Applies a code import entry. A blob missing from the object store or a file the engine refuses changes nothing and is
    /// recorded as applied (the partition goes on; the coordinator reads the failure back and reports it).
    /// </summary>
    async Task ApplyCodes(long seq, ClusterCommand c, CancellationToken ct)
    {
        var sha = c.Arg("sha256");
        var name = c.Arg("file") ?? sha;
        string? error = null;
        var tmp = Path.Combine(host.DataDirectory, $"shard-{Shard}.codes-{seq}.tmp");
        try
        {
            if (sha == null) throw new InvalidDataException($"log entry {seq}: the code import names no blob");
            await File.WriteAllBytesAsync(tmp, await log.GetBlobAsync(sha, ct), ct);
            var r = _db!.ImportCodes(tmp);
            logger.LogInformation("shard {Shard}: log entry {Seq}: {Imported} ICD-10-CM codes imported from {File} ({Refused} rows refused)", Shard, seq, r.Imported, name, r.Errors.Count);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NATS.Client.ObjectStore.NatsObjNotFoundException or Microsoft.Data.Sqlite.SqliteException)
        {
            error = $"code import {name} (log entry {seq}) not applied on shard {Shard}: {e.Message}";
            logger.LogWarning("shard {Shard}: {Message}", Shard, error);
        }
        finally { File.Delete(tmp); }
        using (var side = Side(Directory))
        {
            Exec(side, ClusterCodes.FilesTable);
            if (sha != null) Exec(side, "INSERT OR REPLACE INTO cluster_code_files(seq, sha256, file) VALUES (@q, @s, @f)", ("@q", seq), ("@s", sha), ("@f", name));
        }
        _applied = seq;
        Record([(seq, ClusterCodes.Kind, null, null)]);
        if (_codeOutcomes.Count > 256) _codeOutcomes.Clear();
        _codeOutcomes[seq] = error;
    }

    /// <summary>The blobs of the code imports this shard applied (gc must not delete them: ShardGrain.Maintenance.cs).</summary>
    HashSet<string> CodeBlobs(Microsoft.Data.Sqlite.SqliteConnection side)
    {
        Exec(side, ClusterCodes.FilesTable);
        return Strings(side, "SELECT sha256 FROM cluster_code_files");
    }

    public async Task<string> CodeTable(long sequence)
    {
        try
        {
            await Replay(sequence, CancellationToken.None);
            return new JsonObject { ["total"] = _db!.CodeCount(), ["error"] = _codeOutcomes.GetValueOrDefault(sequence) }.ToJsonString();
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public async Task<string?> LookupCode(string code)
    {
        try
        {
            await Replay(0, CancellationToken.None); // an import appended by another coordinator is seen
            var db = _db!;
            var info = db.LookupCode(code);
            return info == null ? null : ClusterCodes.LookupJson(info, db.CodesUnder(info.Code, 50)).ToJsonString();
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }
}
