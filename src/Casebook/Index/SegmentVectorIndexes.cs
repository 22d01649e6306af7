using System.Text.Json;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook.Index;

/// <summary>
/// The approximate vector indexes (one per embedding kind: text, image) over LIVE segments, kept current on
/// every commit, restore and purge: before answering, the index catches up with versions committed since it
/// last looked (by this or another process), so new rows are searchable at once with no manual rebuild.
/// The index files beside the database are a cache: a missing, stale or unreadable file is rebuilt from rows.
/// </summary>
internal sealed class SegmentVectorIndexes
{
    public sealed record Kind(string Name, string VectorColumn, string ModelColumn);
    public static readonly Kind TextKind = new("text", "text_vec", "text_model");
    public static readonly Kind ImageKind = new("image", "image_vec", "image_model");

    sealed class State
    {
        public long SyncedVersion { get; set; }
        public long SyncedPurges { get; set; }
        public Dictionary<string, string?> Models { get; set; } = new();
        public Dictionary<string, int> Dimensions { get; set; } = new();
    }

    readonly string _dir;
    readonly object _gate = new();
    readonly Dictionary<string, VectorIndex?> _indexes = new();
    State _state = new();
    bool _loaded, _dirty;

    public SegmentVectorIndexes(string dbDirectory) { _dir = Path.Combine(dbDirectory, "index"); }

    /// <summary>The index for a kind (null when no vectors of that kind exist) and the model that made its vectors.</summary>
    public (VectorIndex? Index, string? Model) Get(SqliteConnection c, Kind kind)
    {
        lock (_gate)
        {
            CatchUp(c);
            return (_indexes.GetValueOrDefault(kind.Name), _state.Models.GetValueOrDefault(kind.Name));
        }
    }

    public void CatchUp(SqliteConnection c)
    {
        lock (_gate)
        {
            if (!_loaded) { LoadFiles(); _loaded = true; }
            var version = CasebookDb.Scalar<long>(c, null, "SELECT COALESCE(MAX(version), 0) FROM versions");
            var purges = CasebookDb.Scalar<long>(c, null, "SELECT COUNT(*) FROM purges");
            if (version == _state.SyncedVersion && purges == _state.SyncedPurges) return;
            // A purge deletes rows outright (no closing version to replay), and a cache ahead of the rows means the
            // directory was swapped: both rebuild from scratch.
            if (purges != _state.SyncedPurges || version < _state.SyncedVersion) Reset();
            foreach (var kind in new[] { TextKind, ImageKind }) Apply(c, kind, _state.SyncedVersion);
            _state.SyncedVersion = version;
            _state.SyncedPurges = purges;
            _dirty = true;
        }
    }

    void Reset()
    {
        foreach (var index in _indexes.Values) index?.Dispose();
        _indexes.Clear();
        _state = new State();
    }

    void Apply(SqliteConnection c, Kind kind, long since)
    {
        var index = _indexes.GetValueOrDefault(kind.Name);
        using (var closed = c.CreateCommand())
        {
            closed.CommandText = "SELECT g.row_id FROM segments g JOIN studies s ON s.row_id = g.study_row_id WHERE s.v_to > @since AND s.v_from <= @since";
            closed.Parameters.AddWithValue("@since", since);
            using var r = closed.ExecuteReader();
            while (r.Read()) index?.Remove(r.GetInt64(0));
        }
        using var added = c.CreateCommand();
        added.CommandText = $"SELECT g.row_id, g.{kind.VectorColumn}, g.{kind.ModelColumn} FROM segments g JOIN studies s ON s.row_id = g.study_row_id " +
                            $"WHERE s.v_from > @since AND s.v_to IS NULL AND g.{kind.VectorColumn} IS NOT NULL ORDER BY g.row_id";
        added.Parameters.AddWithValue("@since", since);
        using var rd = added.ExecuteReader();
        while (rd.Read())
        {
            var vec = RowCodec.BytesToVector(rd.GetValue(1))!;
            var model = rd.IsDBNull(2) ? null : rd.GetString(2);
            if (index == null)
            {
                index = new VectorIndex(vec.Length);
                _indexes[kind.Name] = index;
                _state.Models[kind.Name] = model;
                _state.Dimensions[kind.Name] = vec.Length;
            }
            else if (_state.Models.GetValueOrDefault(kind.Name) != model)
                _state.Models[kind.Name] = "mixed"; // refused at query time: re-embed the column first
            index.Add(rd.GetInt64(0), vec);
        }
    }

    void LoadFiles()
    {
        var statePath = Path.Combine(_dir, "state.json");
        if (!File.Exists(statePath)) return;
        try
        {
            var state = JsonSerializer.Deserialize<State>(File.ReadAllText(statePath)) ?? new State();
            foreach (var (name, dim) in state.Dimensions)
            {
                var index = VectorIndex.Load(Path.Combine(_dir, name + ".usearch"));
                if (index.Dimensions != dim) throw new InvalidDataException($"{name} index has {index.Dimensions} dimensions, state says {dim}");
                _indexes[name] = index;
            }
            _state = state;
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException or InvalidOperationException)
        {
            Console.Error.WriteLine($"casebook: vector index cache unreadable ({e.Message}); rebuilding from rows");
            Reset();
        }
    }

    /// <summary>Writes the index files (each atomically) when they changed; the state file goes last.</summary>
    public void Save()
    {
        lock (_gate)
        {
            if (!_dirty) return;
            Directory.CreateDirectory(_dir);
            foreach (var (name, index) in _indexes) index?.Save(Path.Combine(_dir, name + ".usearch"));
            var tmp = Path.Combine(_dir, $"state.json.{Environment.ProcessId}.tmp");
            File.WriteAllText(tmp, JsonSerializer.Serialize(_state));
            File.Move(tmp, Path.Combine(_dir, "state.json"), overwrite: true);
            _dirty = false;
        }
    }
}
