using System.Text.Json;
using NATS.Client.JetStream;

namespace Casebook.Cluster;

/// <summary>Code table imports in the log: one <see cref="ClusterCodes.Kind"/> entry per partition (ShardGrain.Codes.cs).</summary>
public sealed partial class ClusterLog
{
    /// <summary>
    /// Appends a code import entry to one shard's partition. JetStream deduplicates message ids across the whole stream, so
    /// the id names the shard ("codes:&lt;shard&gt;:&lt;sha256 of the entry&gt;"): the same entry goes into every partition, and a
    /// retried publish is a no-op inside the duplicate window.
    /// </summary>
    public async Task<long> AppendCodesAsync(int shard, ClusterCommand entry, CancellationToken ct = default)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(entry);
        var messageId = $"codes:{shard}:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var ack = await _js.PublishAsync(ShardMap.Subject(shard), bytes, opts: new NatsJSPubOpts { MsgId = messageId }, cancellationToken: ct);
                ack.EnsureSuccess();
                return (long)ack.Seq;
            }
            catch (Exception e) when (e is NATS.Client.Core.NatsException or TimeoutException && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                await Task.Delay(250, ct); // a leader election; the message id makes the retry a no-op
            }
        }
    }
}
