using System.Text.Json.Nodes;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Casebook.Cluster;

/// <summary>One object of the blob store: its content hash (the object's name), size and when it was last put.</summary>
public sealed record StoredBlob(string Sha256, long Size, DateTimeOffset Modified);

/// <summary>What gc reads from the object store (ClusterClient.Maintenance.cs).</summary>
public sealed partial class ClusterLog
{
    /// <summary>
    /// Every live object of the blob store with its modification time, read from the store's metadata messages by direct
    /// gets (subject $O.casebook-blobs.M.*): no consumer, so it works on nats-server 2.9 like <see cref="ReadAsync"/>.
    /// An object's metadata subject keeps only its latest message (a put or a delete marker).
    /// </summary>
    public async Task<List<StoredBlob>> ListBlobsAsync(CancellationToken ct = default)
    {
        await Blobs(); // the bucket exists
        var s = await _js.GetStreamAsync(BlobStream, cancellationToken: ct);
        var list = new List<StoredBlob>();
        var next = 1UL;
        while (true)
        {
            StreamMsgGetResponse got;
            try { got = await s.GetAsync(new StreamMsgGetRequest { Seq = next, NextBySubj = $"$O.{BlobBucket}.M.>" }, ct); }
            catch (NatsJSApiException e) when (e.Error.Code == 404) { break; }
            next = got.Message.Seq + 1;
            if (JsonNode.Parse(got.Message.Data.Span) is not JsonObject meta || meta["deleted"]?.GetValue<bool>() == true) continue;
            var name = meta["name"]?.GetValue<string>();
            if (name == null) continue;
            var modified = meta["mtime"]?.GetValue<string>() is { } m && DateTimeOffset.TryParse(m, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t)
                ? t : DateTimeOffset.UnixEpoch; // unknown age: old, but still only deleted when unreferenced
            list.Add(new StoredBlob(name, meta["size"]?.GetValue<long>() ?? 0, modified));
        }
        return list;
    }

    /// <summary>When a blob was last put (null when absent): gc re-reads it just before deleting.</summary>
    public async Task<DateTimeOffset?> BlobModifiedAsync(string sha256, CancellationToken ct = default)
    {
        try { return (await (await Blobs()).GetInfoAsync(sha256, cancellationToken: ct)).MTime; }
        catch (NATS.Client.ObjectStore.NatsObjNotFoundException) { return null; }
    }
}
