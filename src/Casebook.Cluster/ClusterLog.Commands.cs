using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.ObjectStore;

namespace Casebook.Cluster;

/// <summary>Commands (clinician changes, purges) in the log, and the erasures a purge makes in the stream and the object stores.</summary>
public sealed partial class ClusterLog
{
    public const string BlobStream = "OBJ_" + BlobBucket, SnapshotStream = "OBJ_" + SnapshotBucket;

    /// <summary>
    /// Appends a command to a shard's partition only if the partition's last entry is still <paramref name="expectedLast"/>
    /// (JetStream's expected-last-subject-sequence check): the shard checked the command against exactly that state, so
    /// nothing can slip in between the check and the append. Answers the new sequence, or null when something did.
    /// </summary>
    public async Task<long?> AppendCommandAsync(int shard, ClusterCommand command, long expectedLast, CancellationToken ct = default)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(command);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var ack = await _js.PublishAsync(ShardMap.Subject(shard), bytes, opts: new NatsJSPubOpts { ExpectedLastSubjectSequence = (ulong)expectedLast }, cancellationToken: ct);
                if (ack.Error is { ErrCode: 10071 }) return null; // wrong last sequence: the partition moved on
                ack.EnsureSuccess();
                return (long)ack.Seq;
            }
            catch (NatsJSApiException e) when (e.Error.ErrCode == 10071) { return null; }
            catch (Exception e) when (e is NATS.Client.Core.NatsException or TimeoutException && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                // A retry after a lost ack may find its own entry appended: the caller re-reads and re-checks.
                await Task.Delay(250, ct);
            }
        }
    }

    /// <summary>Erases one entry from the stream (JetStream overwrites its bytes); absent already is fine (a purge re-applied).</summary>
    public async Task<bool> EraseEntryAsync(long sequence, CancellationToken ct = default)
    {
        try
        {
            var r = await _js.DeleteMessageAsync(Stream, new StreamMsgDeleteRequest { Seq = (ulong)sequence, NoErase = false }, ct);
            return r.Success;
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404 || e.Error.ErrCode is 10057 or 10037) { return false; } // no such message
        catch (NatsJSApiException e) when (e.Error.Description?.Contains("not found", StringComparison.OrdinalIgnoreCase) == true) { return false; }
    }

    /// <summary>Deletes a blob from the object store (its chunks are purged); absent already is fine.</summary>
    public async Task<bool> DeleteBlobAsync(string sha256, CancellationToken ct = default)
    {
        var store = await Blobs();
        try { await store.GetInfoAsync(sha256, cancellationToken: ct); }
        catch (NatsObjNotFoundException) { return false; }
        await store.DeleteAsync(sha256, ct);
        return true;
    }

    public async Task<bool> BlobExistsAsync(string sha256, CancellationToken ct = default)
    {
        try { await (await Blobs()).GetInfoAsync(sha256, cancellationToken: ct); return true; }
        catch (NatsObjNotFoundException) { return false; }
    }

    /// <summary>
    /// Every message still stored in a stream (CASEBOOK, or an object store's OBJ_… stream), oldest first: what an auditor
    /// reads to check that a purged patient is gone from the log, the snapshots and the blobs.
    /// </summary>
    public async Task<List<(long Sequence, string Subject, byte[] Data)>> ScanAsync(string stream, CancellationToken ct = default)
    {
        var s = await _js.GetStreamAsync(stream, cancellationToken: ct);
        var list = new List<(long, string, byte[])>();
        var next = 1UL;
        while (true)
        {
            StreamMsgGetResponse got;
            try { got = await s.GetAsync(new StreamMsgGetRequest { Seq = next, NextBySubj = ">" }, ct); }
            catch (NatsJSApiException e) when (e.Error.Code == 404) { break; }
            list.Add(((long)got.Message.Seq, got.Message.Subject, got.Message.Data.ToArray()));
            next = got.Message.Seq + 1;
        }
        return list;
    }

    /// <summary>The latest snapshot of a shard as bytes (null when none): for checks and tools.</summary>
    public async Task<byte[]?> SnapshotBytesAsync(int shard, CancellationToken ct = default)
    {
        var file = Path.GetTempFileName();
        try { return await GetSnapshotAsync(shard, file, ct) > 0 ? await File.ReadAllBytesAsync(file, ct) : null; }
        finally { File.Delete(file); }
    }

    /// <summary>The stream's last sequence: the cluster's position in its log (what a single node's version number is to it).</summary>
    public async Task<long> LastLogSequenceAsync(CancellationToken ct = default) =>
        (long)(await _js.GetStreamAsync(Stream, cancellationToken: ct)).Info.State.LastSeq;
}
