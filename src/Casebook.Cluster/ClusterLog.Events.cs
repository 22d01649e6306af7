using System.Text.Json;
using NATS.Client.JetStream;

namespace Casebook.Cluster;

/// <summary>Patient events (FHIR timelines) in the log: a command entry of kind <see cref="ClusterEvents.Kind"/> per patient.</summary>
public sealed partial class ClusterLog
{
    /// <summary>
    /// Appends a patient's events to the patient's partition. The message id is a hash of the entry, so a retried publish is a
    /// no-op inside the duplicate window; a later ingest of the same events appends again and the shard finds nothing changed.
    /// </summary>
    public async Task<long> AppendEventsAsync(int shard, ClusterCommand entry, CancellationToken ct = default)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(entry);
        var messageId = "events:" + entry.PatientPseudoId + ":" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
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
                await Task.Delay(250, ct);
            }
        }
    }
}
