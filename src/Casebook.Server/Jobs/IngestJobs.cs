using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Casebook.Ingest;

namespace Casebook.Server.Jobs;

/// <summary>One asynchronous ingest: its files wait in a temporary folder until the job runs; progress and result are polled.</summary>
public sealed class IngestJob
{
    public required string Id { get; init; }
    public required string Owner { get; init; }
    public required string Folder { get; init; }
    public required IReadOnlyList<string> Files { get; init; }
    public string? Message { get; init; }
    public string State { get; set; } = "queued";
    public string? Stage { get; set; }
    public int Done { get; set; }
    public int Total { get; set; }
    public IngestResult? Result { get; set; }
    public string? Error { get; set; }
    public string Created { get; } = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
    public string? Finished { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["state"] = State, ["created"] = Created, ["finished"] = Finished, ["files"] = Files.Count,
        ["progress"] = new JsonObject { ["stage"] = Stage, ["done"] = Done, ["total"] = Total },
        // Same fields as `casebook ingest --json`; error files are named relative to the upload.
        ["result"] = Result == null ? null : new JsonObject
        {
            ["found"] = Result.Found, ["inserted"] = Result.Inserted, ["updated"] = Result.Updated, ["unchanged"] = Result.Unchanged,
            ["versions"] = new JsonArray(Result.Versions.Select(v => (JsonNode)v).ToArray()),
            ["errors"] = new JsonArray(Result.Errors.Select(e => (JsonNode)new JsonObject { ["file"] = Relative(e.File), ["reason"] = e.Reason.Replace(Folder + "/", "") }).ToArray()),
        },
        ["error"] = Error,
    };

    string Relative(string file) => file.StartsWith(Folder, StringComparison.Ordinal) ? Path.GetRelativePath(Folder, file) : file;
}

/// <summary>
/// Runs ingest jobs one at a time in the background (ingest is one writer anyway), each over its upload folder, which is
/// deleted when the job ends. Jobs are kept in memory: a restart forgets finished jobs but never committed data.
/// </summary>
public sealed class IngestJobs(CasebookDb db, ServerOptions options) : IDisposable
{
    readonly ConcurrentDictionary<string, IngestJob> _jobs = new();
    readonly SemaphoreSlim _oneAtATime = new(1, 1);
    readonly ConcurrentBag<Task> _running = new();
    readonly Func<IngestJob, IProgress<Casebook.Progress>, IngestOptions, IngestResult>? _ingest;

    /// <summary>Jobs that ingest with <paramref name="ingest"/> instead of a local database (a cluster: the log).</summary>
    public IngestJobs(ServerOptions options, Func<IngestJob, IProgress<Casebook.Progress>, IngestOptions, IngestResult> ingest) : this(null!, options) => _ingest = ingest;

    public IngestJob? Get(string id) => _jobs.GetValueOrDefault(id);

    public IngestJob Start(string owner, string folder, IReadOnlyList<string> files, string? message)
    {
        var job = new IngestJob { Id = Guid.NewGuid().ToString("N")[..16], Owner = owner, Folder = folder, Files = files, Message = message };
        _jobs[job.Id] = job;
        _running.Add(Task.Run(() => Run(job)));
        return job;
    }

    void Run(IngestJob job)
    {
        _oneAtATime.Wait();
        try
        {
            job.State = "running";
            var progress = new SyncProgress(p => { job.Stage = p.Stage; job.Done = p.Done; job.Total = p.Total; });
            var ingestOptions = new IngestOptions { Message = job.Message ?? $"ingest job {job.Id} by {job.Owner}" };
            if (options.IngestBatchSize is { } batch) ingestOptions.BatchSize = batch;
            if (_ingest != null) job.Result = _ingest(job, progress, ingestOptions);
            else
            {
                job.Result = db.Ingest([job.Folder], ingestOptions, progress);
                db.SaveIndexes();
            }
            job.State = "succeeded";
        }
        catch (Exception e)
        {
            job.State = "failed";
            job.Error = e.Message.Replace(job.Folder + "/", "");
        }
        finally
        {
            job.Finished = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
            try { Directory.Delete(job.Folder, recursive: true); } catch (IOException) { }
            _oneAtATime.Release();
        }
    }

    /// <summary>DICOMweb STOW-RS: runs a synchronous ingest between jobs (ingest is one writer), so it never interleaves with one.</summary>
    public T RunExclusive<T>(Func<T> work)
    {
        _oneAtATime.Wait();
        try { return work(); }
        finally { _oneAtATime.Release(); }
    }

    /// <summary>Waits for running jobs (server shutdown): an ingest in flight finishes rather than being cut mid-batch.</summary>
    public Task DrainAsync() => Task.WhenAll(_running.ToArray());

    public void Dispose() => _oneAtATime.Dispose();

    // Synchronous progress: System.Progress would post to the thread pool and could report out of order.
    sealed class SyncProgress(Action<Casebook.Progress> report) : IProgress<Casebook.Progress>
    {
        public void Report(Casebook.Progress value) => report(value);
    }
}
