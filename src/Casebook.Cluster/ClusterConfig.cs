using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Casebook.Cluster;

/// <summary>DIR/cluster.json: where every node of a cluster listens, its pid, and the settings all nodes share.</summary>
public sealed class ClusterConfig
{
    [JsonPropertyName("shards")] public int Shards { get; set; } = ShardMap.DefaultShards;
    [JsonPropertyName("data")] public string Data { get; set; } = "";
    /// <summary>The pseudonymisation key file every node mounts (one deployment, one key set).</summary>
    [JsonPropertyName("key_file")] public string? KeyFile { get; set; }
    [JsonPropertyName("snapshot_every")] public int SnapshotEvery { get; set; } = 256;
    /// <summary>Workers: a job neither acknowledged nor marked in progress for this long goes to another worker (Workers/).</summary>
    [JsonPropertyName("work_ack_wait_s")] public double WorkAckWaitSeconds { get; set; } = 30;
    [JsonPropertyName("redis")] public string Redis { get; set; } = "";
    [JsonPropertyName("nats")] public List<string> Nats { get; set; } = new();
    /// <summary>TLS between clients, NATS, Redis and silos (ClusterTls); absent: plaintext, fine on loopback only.</summary>
    [JsonPropertyName("tls")] public ClusterTlsFiles? Tls { get; set; }
    [JsonPropertyName("nodes")] public List<ClusterNode> Nodes { get; set; } = new();

    /// <summary>Where `serve --cluster` keeps its API keys, audit log and JWT key unless --db says otherwise; `keys` and `audit --cluster` read it.</summary>
    [JsonIgnore] public string ServerDirectory => Path.Combine(Data, "server");

    /// <summary>The stream keeps one copy per NATS node (JetStream allows at most 5).</summary>
    [JsonIgnore] public int Replicas => Math.Clamp(Nats.Count, 1, 5);

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static ClusterConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"cluster file not found: {path} (made by `casebook cluster up --data DIR`)", path);
        return JsonSerializer.Deserialize<ClusterConfig>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty cluster file");
    }

    public void Save(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>One process of the cluster: role silo, nats, redis or worker.</summary>
public sealed class ClusterNode
{
    [JsonPropertyName("role")] public string Role { get; set; } = "";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }
    [JsonPropertyName("port")] public int Port { get; set; }
    /// <summary>The address this node listens on and others reach it at (another machine's IP or name); absent: 127.0.0.1.</summary>
    [JsonPropertyName("host")] public string? Host { get; set; }
    [JsonIgnore] public string Address => string.IsNullOrEmpty(Host) ? "127.0.0.1" : Host;
    /// <summary>Silo: its gateway port; NATS: its cluster (route) port.</summary>
    [JsonPropertyName("port2")] public int Port2 { get; set; }
    [JsonPropertyName("dir")] public string Dir { get; set; } = "";
    [JsonPropertyName("log")] public string Log { get; set; } = "";
}

/// <summary>
/// Patients to shards: shard = hash(patient_pseudo_id) mod S, with a fixed hash (SHA-256, first 4 bytes) so every
/// process, machine and version agrees. A patient's studies stay together in one shard.
/// </summary>
public static class ShardMap
{
    public const int DefaultShards = 64;
    public const string SubjectPrefix = "casebook.shard.";

    public static int ShardOf(string patientPseudoId, int shards)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(patientPseudoId), hash);
        return (int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash) % (uint)shards);
    }

    public static string Subject(int shard) => SubjectPrefix + shard;
}
