using System.Text;
using System.Text.Json.Nodes;
using NATS.Client.KeyValueStore;
using NATS.Net;

namespace Casebook.Cluster;

/// <summary>
/// Deployment-wide reference data that belongs to no patient and so to no shard: saved cohort definitions and finding-model
/// versions. Each list is one key of the JetStream KV bucket <c>casebook-meta</c> (replicated like the log), changed only by
/// compare-and-set on the key's revision, so two coordinators saving at once get distinct version numbers, as one node's
/// table gives them. Reads are direct gets (no consumer: Debian's nats-server 2.9 has them).
/// </summary>
public sealed partial class ClusterLog
{
    const string MetaBucket = "casebook-meta";
    INatsKVStore? _meta;

    async Task<INatsKVStore> Meta(CancellationToken ct)
    {
        if (_meta != null) return _meta;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return _meta = await _js.CreateKeyValueStoreContext().CreateOrUpdateStoreAsync(new NatsKVConfig(MetaBucket)
                {
                    NumberOfReplicas = _replicas, Storage = NatsKVStorageType.File, History = 1, MaxValueSize = 8 << 20,
                }, ct);
            }
            catch (Exception e) when (e is NATS.Client.Core.NatsException or NATS.Client.JetStream.NatsJSApiException or TimeoutException && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    /// <summary>The list under <paramref name="key"/> (empty when none was written) and its revision (0: none).</summary>
    public async Task<(JsonArray List, ulong Revision)> GetMetaAsync(string key, CancellationToken ct = default)
    {
        var store = await Meta(ct);
        try
        {
            var entry = await store.GetEntryAsync<byte[]>(key, cancellationToken: ct);
            return (JsonNode.Parse(Encoding.UTF8.GetString(entry.Value!))!.AsArray(), entry.Revision);
        }
        catch (NatsKVKeyNotFoundException) { return (new JsonArray(), 0); }
        catch (NatsKVKeyDeletedException) { return (new JsonArray(), 0); }
    }

    /// <summary>
    /// Changes the list under <paramref name="key"/>: <paramref name="change"/> gets the current list and answers the new one
    /// and a result; written only if nobody wrote in between (else read again and retried).
    /// </summary>
    public async Task<T> UpdateMetaAsync<T>(string key, Func<JsonArray, (JsonArray List, T Result)> change, CancellationToken ct = default)
    {
        var store = await Meta(ct);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var (list, revision) = await GetMetaAsync(key, ct);
            var (next, result) = change(list);
            var bytes = Encoding.UTF8.GetBytes(next.ToJsonString());
            try
            {
                if (revision == 0) await store.CreateAsync(key, bytes, cancellationToken: ct);
                else await store.UpdateAsync(key, bytes, revision, cancellationToken: ct);
                return result;
            }
            catch (NatsKVCreateException) { }
            catch (NatsKVWrongLastRevisionException) { }
            await Task.Delay(20 * (attempt % 10 + 1), ct);
        }
        throw new TimeoutException($"{MetaBucket}/{key} kept changing; not written");
    }
}
