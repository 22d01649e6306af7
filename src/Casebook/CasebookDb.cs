using Casebook.Model;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook;

/// <summary>
/// An embedded Casebook database: a directory holding the <c>clinical_retrieval</c> table (SQLite, WAL),
/// the blob store and the vector index files. Everything the CLI and server do goes through this class.
/// <code>
/// using var db = CasebookDb.Open("casebook-data");
/// var hits = db.Search("pleural effusion").Where("modality = 'CR'").Limit(10).ToList();
/// </code>
/// </summary>
public sealed partial class CasebookDb : IDisposable
{
    public const string TableName = "clinical_retrieval";
    const string DbFileName = "casebook.db";

    readonly string _connectionString;
    public string Directory { get; }
    public CasebookOptions Options { get; }
    public BlobStore Blobs { get; }

    CasebookDb(string directory, CasebookOptions options)
    {
        Directory = Path.GetFullPath(directory);
        Options = options;
        _connectionString = ConnectionStringFor(Directory);
        Blobs = new BlobStore(Path.Combine(Directory, "blobs"));
    }

    /// <summary>Opens (creating if absent) the database in <paramref name="directory"/>, upgrading an older format.</summary>
    public static CasebookDb Open(string directory, CasebookOptions? options = null)
    {
        var dbFile = Path.Combine(directory, DbFileName);
        if (!File.Exists(dbFile) && System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
            throw new DatabaseFormatException($"'{directory}' is not empty and holds no {DbFileName}: not a Casebook database");
        System.IO.Directory.CreateDirectory(directory);
        var db = new CasebookDb(directory, options ?? new CasebookOptions());
        db.InitialiseFormat();
        return db;
    }

    /// <summary>
    /// The connection settings of a database directory's file, shared by every opener (the engine, and the server's own
    /// tables in the same file) so that all of them queue on the write lock the same way.
    /// </summary>
    public static string ConnectionStringFor(string directory) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(Path.GetFullPath(directory), DbFileName),
        Pooling = true,
        DefaultTimeout = 60, // Microsoft.Data.Sqlite retries SQLITE_BUSY until this many seconds pass: writers queue, never fail fast
    }.ToString();

    internal SqliteConnection Connect() => OpenConnection(_connectionString);

    /// <summary>Opens a connection made by <see cref="ConnectionStringFor"/> with the engine's pragmas (full sync, foreign keys).</summary>
    public static SqliteConnection OpenConnection(string connectionString)
    {
        var c = new SqliteConnection(connectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
        cmd.ExecuteNonQuery();
        return c;
    }

    void InitialiseFormat()
    {
        using var c = Connect();
        using (var wal = c.CreateCommand()) { wal.CommandText = "PRAGMA journal_mode=WAL;"; wal.ExecuteNonQuery(); }
        using var tx = c.BeginTransaction();
        var format = FormatUpgrade.ReadFormat(c, tx);
        if (format == null)
        {
            Exec(c, tx, Schema.Create);
            Exec(c, tx, "INSERT INTO meta(key, value) VALUES ('format_version', @f), ('created', @t)", ("@f", Schema.FormatVersion.ToString()), ("@t", Now()));
        }
        else if (format > Schema.FormatVersion)
            throw new DatabaseFormatException($"database format {format} is newer than this Casebook understands ({Schema.FormatVersion}); upgrade Casebook");
        else if (format < Schema.FormatVersion)
            FormatUpgrade.Upgrade(c, tx, format.Value);
        tx.Commit();
    }

    internal static string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");

    internal static int Exec(SqliteConnection c, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd.ExecuteNonQuery();
    }

    internal static T? Scalar<T>(SqliteConnection c, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        var r = cmd.ExecuteScalar();
        return r == null || r is DBNull ? default : (T)Convert.ChangeType(r, typeof(T));
    }

    /// <summary>The latest committed version (0 for an empty database).</summary>
    public long CurrentVersion
    {
        get { using var c = Connect(); return Scalar<long>(c, null, "SELECT COALESCE(MAX(version), 0) FROM versions"); }
    }

    public IReadOnlyList<VersionInfo> Versions()
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT version, time, author, message FROM versions ORDER BY version";
        using var r = cmd.ExecuteReader();
        var list = new List<VersionInfo>();
        while (r.Read()) list.Add(new VersionInfo(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3)));
        return list;
    }

    /// <summary>Checks that <paramref name="asOf"/> names an existing version; returns the version to read.</summary>
    internal long ResolveVersion(SqliteConnection c, long? asOf)
    {
        var current = Scalar<long>(c, null, "SELECT COALESCE(MAX(version), 0) FROM versions");
        if (asOf == null) return current;
        if (asOf < 0 || asOf > current || (asOf > 0 && Scalar<long>(c, null, "SELECT COUNT(*) FROM versions WHERE version = @v", ("@v", asOf)) == 0))
            throw new ArgumentException($"version {asOf} does not exist (versions are 1..{current})");
        return asOf.Value;
    }

    public byte[] ReadBlob(BlobRef blob) => Blobs.Read(blob);

    public void Dispose()
    {
        DisposeIndexes();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }
}

/// <summary>Settings for an open database.</summary>
public sealed class CasebookOptions
{
    /// <summary>Who commits (recorded in every version); defaults to $CASEBOOK_AUTHOR or the OS user.</summary>
    public string Author { get; set; } = Environment.GetEnvironmentVariable("CASEBOOK_AUTHOR") is { Length: > 0 } a ? a : Environment.UserName;
    /// <summary>Key file for patient pseudonyms (HMAC-SHA256); outside the database directory by default.</summary>
    public string? KeyFile { get; set; }
    /// <summary>Directory of models.json for non-default embedding models (null: built-in MiniLM and ResNet-18).</summary>
    public string? ModelConfig { get; set; }
    /// <summary>A text model supplied by the host instead of the cached local one (a cluster's remote workers); null = local.</summary>
    public Casebook.Embed.ITextEmbedder? TextEmbedder { get; set; }
    /// <summary>An image model supplied by the host (a cluster's remote workers); null = local.</summary>
    public Casebook.Embed.IImageEmbedder? ImageEmbedder { get; set; }
}
