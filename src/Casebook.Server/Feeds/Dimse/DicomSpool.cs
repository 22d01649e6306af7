using System.Threading.Channels;
using Casebook.Extract.Dicom;
using Casebook.Server.Audit;
using Microsoft.Extensions.Logging;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>
/// Where received instances wait until they are ingested, and the worker that ingests them.
/// <para>Durability: a C-STORE-RSP success goes back only after the instance is a complete Part 10 file in the spool, flushed
/// to disk (fsync) and renamed from <c>.part</c> to <c>.dcm</c> — so every acknowledged instance survives a crash. An association's
/// folder (<c>DB/server/dimse-spool/ASSOC/</c>) is ingested as one batch when the association ends (released, aborted or
/// dropped), through the engine's ingest like a folder drop (de-identified, one version per batch of studies), and deleted once
/// committed. Folders left by a crash are ingested when the server starts. Instances the engine refuses are moved to
/// <c>DB/server/dimse-failed/</c> and named in the audit log. The spool holds identified originals only in that window, in a
/// folder only the server's user can read.</para>
/// </summary>
public sealed class DicomSpool : IDisposable
{
    readonly IFeedTarget _target;
    readonly AuditLog _audit;
    readonly ILogger _logger;
    readonly Channel<(string Folder, string CallingAe, string Remote)> _queue = Channel.CreateUnbounded<(string, string, string)>();
    Task? _worker;
    int _pending;

    public string Root { get; }
    public string FailedRoot { get; }

    /// <param name="directory">The served database's directory (with --cluster: the server's own directory).</param>
    public DicomSpool(string directory, IFeedTarget target, AuditLog audit, ILogger logger)
    {
        _target = target; _audit = audit; _logger = logger;
        Root = Path.Combine(directory, "server", "dimse-spool");
        FailedRoot = Path.Combine(directory, "server", "dimse-failed");
        Directory.CreateDirectory(Root);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Batches waiting or being ingested (tests wait for 0).</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Starts the worker and queues folders a crash left behind (their partial files are dropped: never acknowledged).</summary>
    public void Start()
    {
        foreach (var folder in Directory.GetDirectories(Root).Order(StringComparer.Ordinal))
        {
            foreach (var part in Directory.GetFiles(folder, "*.part")) File.Delete(part);
            Enqueue(folder, "recovered", "local");
        }
        _worker = Task.Run(Work);
    }

    /// <summary>A new folder for one association.</summary>
    public string NewAssociationFolder()
    {
        var folder = Path.Combine(Root, $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public void Enqueue(string folder, string callingAe, string remote)
    {
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite((folder, callingAe, remote));
    }

    /// <summary>Makes a received file durable: fsync, then rename to its final name (an atomic step on one file system).</summary>
    public static void Commit(FileStream file, string partPath, string finalPath)
    {
        file.Flush(flushToDisk: true);
        file.Dispose();
        File.Move(partPath, finalPath);
    }

    /// <summary>Checks a spooled instance before it is acknowledged: it must parse and name its study and the SOP instance of the command.</summary>
    public static string? Problem(string path, string sopInstance)
    {
        try
        {
            using var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
            if (f.Dataset.GetString(new DicomTag(0x0020000D)) is not { Length: > 0 }) return "no Study Instance UID (0020,000D)";
            var sop = f.Dataset.GetString(new DicomTag(0x00080018))?.Trim('\0', ' ');
            if (sop != null && sop.Length > 0 && sop != sopInstance) return $"dataset SOP Instance UID differs from the command's";
            return null;
        }
        catch (Exception e) when (e is DicomParseException or InvalidDataException or IOException or ArgumentException or IndexOutOfRangeException)
        {
            return "dataset not readable: " + e.Message;
        }
    }

    async Task Work()
    {
        await foreach (var (folder, ae, remote) in _queue.Reader.ReadAllAsync())
        {
            try { await Ingest(folder, ae, remote); }
            catch (Exception e)
            {
                // The folder stays: the next start ingests it again (ingest of unchanged studies is a no-op).
                _logger.LogError(e, "DIMSE: ingest of {Folder} failed; kept for the next start", folder);
                _audit.Append("ae:" + ae, "feed", "dimse.ingest", Path.GetFileName(folder), remote, "error", e.Message);
            }
            finally { Interlocked.Decrement(ref _pending); }
        }
    }

    async Task Ingest(string folder, string ae, string remote)
    {
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.dcm") : [];
        if (files.Length == 0) { TryDelete(folder); return; }
        var name = Path.GetFileName(folder);
        var result = await _target.IngestDicomAsync(folder, $"DIMSE C-STORE from AE {ae}: {files.Length} instances");
        var failed = 0;
        foreach (var e in result.Errors)
        {
            if (!e.File.StartsWith(folder, StringComparison.Ordinal) || !File.Exists(e.File)) continue;
            var to = Path.Combine(FailedRoot, name);
            Directory.CreateDirectory(to);
            File.Move(e.File, Path.Combine(to, Path.GetFileName(e.File)), overwrite: true);
            failed++;
        }
        var errors = string.Join("; ", result.Errors.Select(e => $"{Path.GetFileName(e.File)}: {e.Reason.Replace(folder + "/", "")}"));
        _audit.Append("ae:" + ae, "feed", "dimse.ingest", name, remote, result.Errors.Count == 0 ? "success" : "partial",
            $"{files.Length} instances, {result.Found} studies: {result.Inserted} inserted, {result.Updated} updated, {result.Unchanged} unchanged"
            + (result.Versions.Count > 0 ? $", version {result.Versions[^1]}" : "") + (errors.Length > 0 ? $"; {failed} moved to dimse-failed: {errors}" : ""));
        TryDelete(folder);
    }

    static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Stops taking batches and waits for those queued (server shutdown: nothing acknowledged is left half-ingested).</summary>
    public async Task DrainAsync()
    {
        _queue.Writer.TryComplete();
        if (_worker != null) await _worker;
    }

    public void Dispose() => _queue.Writer.TryComplete();
}
