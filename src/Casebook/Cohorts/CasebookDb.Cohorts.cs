using System.Diagnostics;
using System.Text.Json.Nodes;
using Casebook.Cohorts;
using Microsoft.Data.Sqlite;

namespace Casebook;

/// <summary>A saved cohort definition version (the table <c>cohort_definitions</c>).</summary>
public sealed record SavedCohort(string Name, int Version, string Author, string Time, long DataVersion, string Json)
{
    public CohortDefinition Parse() => CohortDefinition.Parse(Json);
}

/// <summary>What a cohort run found: pseudonymous patient ids and study ids, read as of data version <see cref="AsOf"/>.</summary>
public sealed record CohortResult(string? Name, int? DefinitionVersion, long AsOf, IReadOnlyList<string> Patients,
    IReadOnlyList<(string StudyId, string PatientPseudoId)> Studies, double Milliseconds);

public sealed partial class CasebookDb
{
    // Saved definitions are reference data, not study rows: a table of their own, made on first use (no format change).
    // The code index makes lab/condition criteria a range scan instead of a pass over every event.
    const string CohortSchema = """
        CREATE TABLE IF NOT EXISTS cohort_definitions(
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            author TEXT NOT NULL,
            time TEXT NOT NULL,
            data_version INTEGER NOT NULL,
            definition TEXT NOT NULL,
            PRIMARY KEY(name, version));
        CREATE INDEX IF NOT EXISTS patient_events_code ON patient_events(code, type);
        """;

    bool _cohortSchemaReady;

    void EnsureCohortSchema(SqliteConnection c)
    {
        if (_cohortSchemaReady) return;
        Exec(c, null, CohortSchema);
        _cohortSchemaReady = true;
    }

    /// <summary>Runs a cohort definition as of <paramref name="asOf"/> (else the definition's <c>as_of</c>, else the latest version).</summary>
    public CohortResult RunCohort(CohortDefinition definition, long? asOf = null, string? name = null, int? definitionVersion = null)
    {
        using var c = Connect();
        EnsureCohortSchema(c);
        var version = ResolveVersion(c, asOf ?? definition.AsOf);
        var sw = Stopwatch.StartNew();
        var compiler = new CohortCompiler();
        var patientsSql = compiler.PatientsSql(definition);
        // The patients are computed once into a temporary table; the studies query reads it.
        Exec(c, null, "DROP TABLE IF EXISTS temp.cohort_patients; CREATE TEMP TABLE cohort_patients(p TEXT PRIMARY KEY) WITHOUT ROWID");
        using (var cmd = Command(c, "INSERT INTO temp.cohort_patients(p) " + patientsSql, version, compiler)) cmd.ExecuteNonQuery();
        var patients = new List<string>();
        using (var cmd = Command(c, "SELECT p FROM temp.cohort_patients ORDER BY p", version, new CohortCompiler()))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) patients.Add(r.GetString(0));
        var studies = new List<(string, string)>();
        if (patients.Count > 0)
        {
            var studyCompiler = new CohortCompiler();
            var sql = studyCompiler.StudiesSql(definition, "SELECT p FROM temp.cohort_patients");
            using var cmd = Command(c, sql, version, studyCompiler);
            using var r = cmd.ExecuteReader();
            while (r.Read()) studies.Add((r.GetString(0), r.GetString(1)));
        }
        Exec(c, null, "DROP TABLE IF EXISTS temp.cohort_patients");
        return new CohortResult(name ?? definition.Name, definitionVersion, version, patients, studies, sw.Elapsed.TotalMilliseconds);
    }

    static SqliteCommand Command(SqliteConnection c, string sql, long asOf, CohortCompiler compiler)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("@asof", asOf);
        foreach (var (n, v) in compiler.Parameters) cmd.Parameters.AddWithValue(n, v);
        return cmd;
    }

    /// <summary>Saves a definition under <paramref name="name"/> as its next version (1, 2, …); earlier versions stay readable.</summary>
    public SavedCohort SaveCohort(string name, CohortDefinition definition, string author)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200 || name.Contains('@'))
            throw new ArgumentException($"cohort name '{name}' must be 1..200 characters without '@' (NAME@V names a version)");
        if (string.IsNullOrWhiteSpace(author)) throw new ArgumentException("a saved cohort needs an author");
        using var c = Connect();
        EnsureCohortSchema(c);
        using var tx = c.BeginTransaction(deferred: false);
        var next = (int)(Scalar<long>(c, tx, "SELECT COALESCE(MAX(version), 0) FROM cohort_definitions WHERE name = @n", ("@n", name)) + 1);
        var dataVersion = Scalar<long>(c, tx, "SELECT COALESCE(MAX(version), 0) FROM versions");
        var saved = new SavedCohort(name, next, author, Now(), dataVersion, definition.Json);
        Exec(c, tx, "INSERT INTO cohort_definitions(name, version, author, time, data_version, definition) VALUES (@n, @v, @a, @t, @d, @j)",
            ("@n", name), ("@v", next), ("@a", author), ("@t", saved.Time), ("@d", dataVersion), ("@j", definition.Json));
        tx.Commit();
        return saved;
    }

    /// <summary>Every saved version of every cohort, by name then version.</summary>
    public IReadOnlyList<SavedCohort> ListCohorts(string? name = null)
    {
        using var c = Connect();
        EnsureCohortSchema(c);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, version, author, time, data_version, definition FROM cohort_definitions" +
                          (name != null ? " WHERE name = @n" : "") + " ORDER BY name, version";
        if (name != null) cmd.Parameters.AddWithValue("@n", name);
        using var r = cmd.ExecuteReader();
        var list = new List<SavedCohort>();
        while (r.Read()) list.Add(new SavedCohort(r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5)));
        return list;
    }

    /// <summary>A saved cohort: "NAME" (latest version) or "NAME@V"; null when there is none.</summary>
    public SavedCohort? GetCohort(string nameOrVersion)
    {
        var at = nameOrVersion.LastIndexOf('@');
        var name = at > 0 ? nameOrVersion[..at] : nameOrVersion;
        int? version = null;
        if (at > 0) version = int.TryParse(nameOrVersion[(at + 1)..], out var v) && v > 0 ? v : throw new ArgumentException($"'{nameOrVersion}': the version after '@' must be a positive integer");
        var all = ListCohorts(name);
        return version is { } want ? all.FirstOrDefault(s => s.Version == want) : all.LastOrDefault();
    }
}
