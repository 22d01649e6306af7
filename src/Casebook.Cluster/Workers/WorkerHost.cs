using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Casebook.Cluster.Workers;

/// <summary>
/// A worker process (`casebook cluster worker --cluster FILE --name NAME`): pulls one job at a time from the shared
/// durable consumer, runs it, writes the result under the job id, then acknowledges. While a job runs the worker sends
/// in-progress acks every AckWait/3, so a long transcription is not redelivered; a killed worker sends nothing more and
/// its job goes to another worker once AckWait has passed. Each start is logged with its delivery count.
/// </summary>
public static class WorkerHost
{
    public const string HeartbeatFile = "heartbeat";

    public static async Task RunAsync(ClusterConfig config, ClusterNode node, CancellationToken ct)
    {
        await using var queue = new WorkQueue(config);
        await queue.EnsureAsync(TimeSpan.FromSeconds(60), ct);
        using var stages = new WorkStages(queue);
        Directory.CreateDirectory(node.Dir);
        // Heartbeat: `cluster status` reports a worker healthy while its process lives and this file is fresh.
        var heartbeat = Task.Run(async () =>
        {
            var file = Path.Combine(node.Dir, HeartbeatFile);
            while (!ct.IsCancellationRequested)
            {
                File.WriteAllText(file, DateTime.UtcNow.ToString("O"));
                try { await queue.BeatAsync(node.Name, ct); } catch (Exception e) when (e is NatsException or TimeoutException) { } // NATS briefly away: the next beat
                try { await Task.Delay(TimeSpan.FromSeconds(2), ct); } catch (OperationCanceledException) { }
            }
        }, CancellationToken.None);
        Log($"worker {node.Name} pulling from {WorkQueue.Stream} (consumer {WorkQueue.Consumer}, ack wait {queue.AckWait.TotalSeconds:0.#} s)");
        INatsJSConsumer? consumer = null;
        while (!ct.IsCancellationRequested)
        {
            INatsJSMsg<byte[]>? next;
            try
            {
                consumer ??= await queue.ConsumerAsync(ct);
                next = await consumer.NextAsync<byte[]>(opts: new NatsJSNextOpts { Expires = TimeSpan.FromSeconds(5) }, cancellationToken: ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception e) when (e is NatsException or TimeoutException)
            {
                Log($"pull failed ({e.Message}); retrying"); // a NATS node lost or a leader election: bind again
                consumer = null;
                await Task.Delay(1000, ct);
                continue;
            }
            if (next is not { } msg) continue;
            await HandleAsync(queue, stages, msg, ct);
        }
        await heartbeat;
    }

    static async Task HandleAsync(WorkQueue queue, WorkStages stages, INatsJSMsg<byte[]> msg, CancellationToken ct)
    {
        WorkJob job;
        try { job = JsonSerializer.Deserialize<WorkJob>(msg.Data) ?? throw new JsonException("empty job"); }
        catch (JsonException e)
        {
            Log($"dropping a malformed job on {msg.Subject}: {e.Message}");
            await msg.AckTerminateAsync(cancellationToken: ct);
            return;
        }
        var delivery = msg.Metadata?.NumDelivered ?? 1;
        if (delivery > WorkQueue.MaxDeliveries)
        {
            // Every earlier delivery ended without an answer (the worker died): do not let one input kill every worker.
            var error = new WorkResult { Error = $"{job.Kind} job abandoned: {delivery - 1} workers died or stalled while running it" };
            await queue.PutResultAsync(job.Id, JsonSerializer.SerializeToUtf8Bytes(error), ct);
            await msg.AckAsync(cancellationToken: ct);
            Log($"abandoned {job.Kind} {job.Id} delivery {delivery}");
            return;
        }
        Log($"start {job.Kind} {job.Id} delivery {delivery}");
        using var working = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = Task.Run(async () =>
        {
            while (!working.IsCancellationRequested)
            {
                await Task.Delay(queue.AckWait / 3, working.Token);
                await msg.AckProgressAsync(cancellationToken: working.Token);
            }
        }, CancellationToken.None);
        try
        {
            var result = await Task.Run(() => stages.RunAsync(job, ct), ct);
            await queue.PutResultAsync(job.Id, JsonSerializer.SerializeToUtf8Bytes(result), ct);
            await msg.AckAsync(cancellationToken: ct);
            Log($"done {job.Kind} {job.Id} delivery {delivery}{(result.Error != null ? $" error: {result.Error}" : "")}");
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Not the input's fault (lost connection, object store unreachable): hand the job back for another try.
            Log($"failed {job.Kind} {job.Id} delivery {delivery}: {e.GetType().Name}: {e.Message}");
            try { await msg.NakAsync(delay: TimeSpan.FromSeconds(2), cancellationToken: ct); } catch (Exception) { }
        }
        finally
        {
            working.Cancel();
            try { await progress; } catch (OperationCanceledException) { } catch (NatsException) { }
        }
    }

    static void Log(string line) => Console.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
}
