using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Casebook.Server.Audit;

/// <summary>One audited access: who (key id or token subject), with which role, when, what, from where, and how it ended.</summary>
public sealed record AuditEntry(long Seq, string Time, string Actor, string Role, string Action, string Target, string Remote, string Outcome,
    string? Detail, string PrevHash, string Hash);

/// <summary>The answer of a chain check: intact, or the first entry whose hash or link does not hold.</summary>
/// <remarks>
/// <see cref="HeadHash"/> is the last entry's hash: someone who rewrites a row AND every row after it makes a consistent
/// chain again, so keep the head hash somewhere else (a ticket, a log shipper) and compare it later.
/// </remarks>
public sealed record AuditVerification(bool Intact, long Entries, long? FirstBadSeq, string? Reason, string? HeadHash = null);

/// <summary>
/// The audit log: an append-only table in the database file whose rows form a hash chain. Each row's hash is
/// SHA-256 over the previous row's hash and the row's own fields, so changing, deleting or reordering any row breaks
/// every link after it, and <see cref="Verify"/> names the first bad one. Triggers refuse UPDATE and DELETE, so only
/// someone editing the file behind SQLite's back can tamper — which the chain then shows.
/// </summary>
public sealed class AuditLog(ServerStore store)
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS audit (
            seq INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            remote TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """;
    public static readonly string GenesisHash = new('0', 64);
    readonly Lock _gate = new();

    /// <summary>Appends one entry (one short write transaction); returns it with its sequence number and hash.</summary>
    public AuditEntry Append(string actor, string role, string action, string target, string remote, string outcome, string? detail = null)
    {
        // One writer at a time in this process; other processes queue on SQLite's write lock (BEGIN IMMEDIATE).
        lock (_gate)
        {
            using var c = store.Connect();
            using var tx = c.BeginTransaction(deferred: false);
            string prev = GenesisHash;
            long seq = 1;
            using (var last = c.CreateCommand())
            {
                last.Transaction = tx;
                last.CommandText = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
                using var r = last.ExecuteReader();
                if (r.Read()) { seq = r.GetInt64(0) + 1; prev = r.GetString(1); }
            }
            var time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
            var hash = HashOf(seq, time, actor, role, action, target, remote, outcome, detail, prev);
            using (var ins = c.CreateCommand())
            {
                ins.Transaction = tx;
                ins.CommandText = "INSERT INTO audit(seq, time, actor, role, action, target, remote, outcome, detail, prev_hash, hash) VALUES (@s, @t, @a, @r, @ac, @tg, @rm, @o, @d, @p, @h)";
                ins.Parameters.AddWithValue("@s", seq);
                ins.Parameters.AddWithValue("@t", time);
                ins.Parameters.AddWithValue("@a", actor);
                ins.Parameters.AddWithValue("@r", role);
                ins.Parameters.AddWithValue("@ac", action);
                ins.Parameters.AddWithValue("@tg", target);
                ins.Parameters.AddWithValue("@rm", remote);
                ins.Parameters.AddWithValue("@o", outcome);
                ins.Parameters.AddWithValue("@d", (object?)detail ?? DBNull.Value);
                ins.Parameters.AddWithValue("@p", prev);
                ins.Parameters.AddWithValue("@h", hash);
                ins.ExecuteNonQuery();
            }
            tx.Commit();
            return new AuditEntry(seq, time, actor, role, action, target, remote, outcome, detail, prev, hash);
        }
    }

    /// <summary>Entries in order, optionally only after <paramref name="afterSeq"/>, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<AuditEntry> Read(long afterSeq = 0, int limit = int.MaxValue)
    {
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, time, actor, role, action, target, remote, outcome, detail, prev_hash, hash FROM audit WHERE seq > @after ORDER BY seq LIMIT @n";
        cmd.Parameters.AddWithValue("@after", afterSeq);
        cmd.Parameters.AddWithValue("@n", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<AuditEntry>();
        while (r.Read()) list.Add(ReadEntry(r));
        return list;
    }

    /// <summary>Walks the whole chain: each entry must link to its predecessor's hash, have the next sequence number, and hash to itself.</summary>
    public AuditVerification Verify()
    {
        using var c = store.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, time, actor, role, action, target, remote, outcome, detail, prev_hash, hash FROM audit ORDER BY seq";
        using var r = cmd.ExecuteReader();
        var prev = GenesisHash;
        long expected = 1, count = 0;
        while (r.Read())
        {
            var e = ReadEntry(r);
            count++;
            if (e.Seq != expected) return new(false, count, e.Seq, $"entry {e.Seq} follows {expected - 1}: entries are missing");
            if (e.PrevHash != prev) return new(false, count, e.Seq, $"entry {e.Seq} does not link to the hash of entry {e.Seq - 1}");
            if (HashOf(e.Seq, e.Time, e.Actor, e.Role, e.Action, e.Target, e.Remote, e.Outcome, e.Detail, e.PrevHash) != e.Hash)
                return new(false, count, e.Seq, $"entry {e.Seq} was changed after it was written (its hash does not match its fields)");
            prev = e.Hash;
            expected++;
        }
        return new(true, count, null, null, count > 0 ? prev : null);
    }

    static AuditEntry ReadEntry(SqliteDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.GetString(6), r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.GetString(9), r.GetString(10));

    /// <summary>SHA-256 over the previous hash and the fields as a JSON array (unambiguous: no separator can be forged).</summary>
    public static string HashOf(long seq, string time, string actor, string role, string action, string target, string remote, string outcome, string? detail, string prev)
    {
        var canonical = JsonSerializer.Serialize(new object?[] { prev, seq, time, actor, role, action, target, remote, outcome, detail });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
