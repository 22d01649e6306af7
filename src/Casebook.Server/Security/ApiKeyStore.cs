using System.Security.Cryptography;
using System.Text;

namespace Casebook.Server.Security;

public sealed record ApiKeyInfo(string KeyId, string Role, string Created, string? Label, string? Revoked);

/// <summary>
/// API keys: <c>cbk_&lt;id&gt;_&lt;secret&gt;</c>. Only the SHA-256 of the secret is stored (a 256-bit random secret needs no
/// slow hash); the full key is shown once, when made. Lookup is by id, comparison in constant time.
/// </summary>
public sealed class ApiKeyStore(ServerStore store)
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS api_keys (
            key_id TEXT PRIMARY KEY,
            secret_sha256 TEXT NOT NULL,
            role TEXT NOT NULL,
            label TEXT,
            created TEXT NOT NULL,
            revoked TEXT
        );
        """;
    const string Prefix = "cbk_";

    /// <summary>Makes a key; returns its id and the full key text (never stored).</summary>
    public (string KeyId, string Key) Create(string role, string? label = null)
    {
        if (!Roles.IsKnown(role)) throw new ArgumentException($"unknown role '{role}'; roles: {string.Join(", ", Roles.All)}");
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT INTO api_keys(key_id, secret_sha256, role, label, created) VALUES (@id, @h, @r, @l, @t)";
        cmd.Parameters.AddWithValue("@id", id);
        cmd.Parameters.AddWithValue("@h", Hash(secret));
        cmd.Parameters.AddWithValue("@r", role);
        cmd.Parameters.AddWithValue("@l", (object?)label ?? DBNull.Value);
        cmd.Parameters.AddWithValue("@t", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
        cmd.ExecuteNonQuery();
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The key's id and role when <paramref name="key"/> is a live key; null otherwise (with the id, when it parsed).</summary>
    public (ApiKeyInfo? Key, string? ClaimedId) Verify(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 128) return (null, null);
        var rest = key.AsSpan(Prefix.Length);
        var sep = rest.IndexOf('_');
        if (sep <= 0) return (null, null);
        var id = rest[..sep].ToString();
        var secret = rest[(sep + 1)..].ToString();
        var info = Find(id, out var storedHash);
        if (info == null || storedHash == null) return (null, id);
        var ok = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(storedHash));
        return ok && info.Revoked == null ? (info, id) : (null, id);
    }

    public IReadOnlyList<ApiKeyInfo> List()
    {
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT key_id, role, created, label, revoked FROM api_keys ORDER BY created, key_id";
        using var r = cmd.ExecuteReader();
        var list = new List<ApiKeyInfo>();
        while (r.Read()) list.Add(new(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return list;
    }

    /// <summary>Revokes a key (kept for the audit trail); false when no such live key.</summary>
    public bool Revoke(string keyId)
    {
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE api_keys SET revoked = @t WHERE key_id = @id AND revoked IS NULL";
        cmd.Parameters.AddWithValue("@id", keyId);
        cmd.Parameters.AddWithValue("@t", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
        return cmd.ExecuteNonQuery() == 1;
    }

    ApiKeyInfo? Find(string id, out string? hash)
    {
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT key_id, role, created, label, revoked, secret_sha256 FROM api_keys WHERE key_id = @id";
        cmd.Parameters.AddWithValue("@id", id);
        using var r = cmd.ExecuteReader();
        hash = null;
        if (!r.Read()) return null;
        hash = r.GetString(5);
        return new(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4));
    }

    static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
