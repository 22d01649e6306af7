using System.Net.Http.Headers;
using Casebook.Server;
using Casebook.Server.Security;
using Casebook.Tests.Search;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Server;

/// <summary>
/// One real Kestrel server on a random loopback port, over a private copy of the demo database (so ingest and audit
/// writes do not disturb other demo-corpus tests), started once per test run and shared by the server test classes.
/// Holds one API key per role. Upload limits are small so oversize tests stay cheap.
/// </summary>
public sealed class DemoServer
{
    static DemoServer? _shared;
    static readonly Lock Gate = new();

    public TempDirectory Temp { get; } = new();
    public string DbDir => Temp["db"];
    public string KeyFile { get; }
    public CasebookServer Server { get; }
    public Uri BaseUrl { get; }
    public IReadOnlyDictionary<string, string> Keys { get; }
    public IReadOnlyDictionary<string, string> KeyIds { get; }
    public ServerOptions Options => Server.Options;

    public const long MaxImageQueryBytes = 2L << 20, MaxIngestBytes = 8L << 20;

    DemoServer(DemoCorpusFixture demo)
    {
        KeyFile = demo.Temp.KeyFile;
        CopyDatabase(demo.DbDir, DbDir);
        var keys = new Dictionary<string, string>();
        var ids = new Dictionary<string, string>();
        var store = new ApiKeyStore(new ServerStore(DbDir));
        foreach (var role in Roles.All)
        {
            var (id, key) = store.Create(role, "test " + role);
            keys[role] = key;
            ids[role] = id;
        }
        Keys = keys;
        KeyIds = ids;
        Server = CasebookServer.Create(new ServerOptions
        {
            DbDirectory = DbDir, KeyFile = KeyFile, Port = 0, RequestsPerWindow = 1_000_000,
            MaxImageQueryBytes = MaxImageQueryBytes, MaxIngestBytes = MaxIngestBytes,
        });
        Server.StartAsync().GetAwaiter().GetResult();
        BaseUrl = new Uri(Server.Urls[0] + "/");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30)); } catch (Exception) { }
            Temp.Dispose();
        };
    }

    public static DemoServer Shared(DemoCorpusFixture demo)
    {
        lock (Gate) return _shared ??= new DemoServer(demo);
    }

    /// <summary>A client that sends <paramref name="credential"/> as its bearer credential (none when null).</summary>
    public HttpClient Client(string? credential = null)
    {
        var c = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromMinutes(2) };
        if (credential != null) c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return c;
    }

    public HttpClient As(string role) => Client(Keys[role]);

    /// <summary>A consistent copy of a live database: VACUUM INTO for the SQLite file, then the blob store.</summary>
    public static void CopyDatabase(string from, string to)
    {
        Directory.CreateDirectory(to);
        using (var c = new SqliteConnection($"Data Source={Path.Combine(from, "casebook.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "VACUUM INTO @to";
            cmd.Parameters.AddWithValue("@to", Path.Combine(to, "casebook.db"));
            cmd.ExecuteNonQuery();
        }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(from, "blobs"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
