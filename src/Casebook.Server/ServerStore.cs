using Microsoft.Data.Sqlite;

namespace Casebook.Server;

/// <summary>
/// The server's own tables in the database file (API keys, audit log). They are created with
/// CREATE TABLE IF NOT EXISTS on open, so they need no format bump and older engines ignore them.
/// </summary>
public sealed class ServerStore
{
    readonly string _connectionString;
    public string Directory { get; }

    public ServerStore(string dbDirectory)
    {
        Directory = Path.GetFullPath(dbDirectory);
        var file = Path.Combine(Directory, "casebook.db");
        if (!File.Exists(file)) throw new InvalidOperationException($"no Casebook database at '{dbDirectory}' (run ./casebook ingest or ./casebook demo first, or pass --db)");
        _connectionString = CasebookDb.ConnectionStringFor(Directory); // the engine's settings: one write queue for both
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = Security.ApiKeyStore.Schema + Audit.AuditLog.Schema;
        cmd.ExecuteNonQuery();
    }

    public SqliteConnection Connect() => CasebookDb.OpenConnection(_connectionString);
}
