using Casebook.Extract.Clinical;
using Microsoft.Data.Sqlite;
using Sylvan.Data.Csv;

namespace Casebook;

/// <summary>An ICD-10-CM code of the imported table: dotted code ("E11.9"), display, and its ancestors (nearest first).</summary>
public sealed record ClinicalCodeInfo(string Code, string Display, IReadOnlyList<(string Code, string Display)> Ancestors);

/// <summary>Result of <see cref="CasebookDb.ImportCodes"/>: rows imported and rows refused (each with file:line and reason).</summary>
public sealed record CodeImportResult(int Imported, IReadOnlyList<string> Errors);

/// <summary>
/// ICD-10-CM code table (<c>icd10cm_codes</c>): imported from the CMS table so codes found in text get displays and a
/// hierarchy. Codes are stored dotted ("E11.9"; the CMS files write "E119"); a code's ancestors are its prefixes that
/// are in the table, so "E11" includes "E11.9" and "E11.65". The table is created on first use with CREATE TABLE IF NOT
/// EXISTS; it is reference data, not versioned study content.
/// </summary>
public sealed partial class CasebookDb
{
    const string CodeTableSql = "CREATE TABLE IF NOT EXISTS icd10cm_codes(code TEXT PRIMARY KEY, display TEXT NOT NULL)";

    /// <summary>Imports a CMS ICD-10-CM table: CSV <c>code,"description"</c> (header optional) or the CMS text files
    /// (<c>icd10cm_codes_YYYY.txt</c>: code, spaces, description). Re-importing a code replaces its display. A malformed
    /// row is reported with its line and skipped; the rest is imported in one transaction.</summary>
    public CodeImportResult ImportCodes(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
        var errors = new List<string>();
        var rows = new List<(string Code, string Display)>();
        using (var reader = new StreamReader(path))
        {
            var first = reader.ReadLine();
            if (first == null) throw new InvalidDataException($"{path}: file is empty");
            bool csv = first.Contains(',');
            reader.BaseStream.Position = 0;
            reader.DiscardBufferedData();
            if (csv)
            {
                using var data = CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = false });
                int line = 0;
                while (data.Read())
                {
                    line++;
                    if (data.FieldCount < 2) { errors.Add($"{path}:{line}: expected 'code,description'"); continue; }
                    var code = data.GetString(0).Trim();
                    if (line == 1 && code.Equals("code", StringComparison.OrdinalIgnoreCase)) continue; // header row
                    Add(code, data.GetString(1), line);
                }
            }
            else
            {
                int line = 0;
                while (reader.ReadLine() is { } text)
                {
                    line++;
                    if (text.Trim().Length == 0) continue;
                    var parts = text.Trim().Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length < 2) { errors.Add($"{path}:{line}: expected 'CODE description'"); continue; }
                    Add(parts[0], parts[1], line);
                }
            }
        }
        void Add(string code, string display, int line)
        {
            var dotted = ClinicalCodes.Normalise(code);
            if (dotted == null) { errors.Add($"{path}:{line}: '{code}' is not an ICD-10-CM code (letter, digit, alphanumeric, up to 4 more)"); return; }
            if (display.Trim().Length == 0) { errors.Add($"{path}:{line}: code {code} has no description"); return; }
            rows.Add((dotted, display.Trim()));
        }
        using var c = Connect();
        using var tx = c.BeginTransaction();
        Exec(c, tx, CodeTableSql);
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO icd10cm_codes(code, display) VALUES (@c, @d) ON CONFLICT(code) DO UPDATE SET display = excluded.display";
        var pc = cmd.Parameters.Add("@c", SqliteType.Text);
        var pd = cmd.Parameters.Add("@d", SqliteType.Text);
        foreach (var (code, display) in rows) { pc.Value = code; pd.Value = display; cmd.ExecuteNonQuery(); }
        tx.Commit();
        return new CodeImportResult(rows.Count, errors);
    }

    /// <summary>A code with its display and ancestors; a code not in the table (a leaf the imported release lacks) takes
    /// the display of its nearest ancestor, marked "(via E11)". Null when neither it nor any ancestor is known.</summary>
    public ClinicalCodeInfo? LookupCode(string code)
    {
        var dotted = ClinicalCodes.Normalise(code);
        if (dotted == null) return null;
        using var c = Connect();
        Exec(c, null, CodeTableSql);
        var chain = new List<(string Code, string Display)>();
        foreach (var prefix in ClinicalCodes.Prefixes(dotted))
        {
            var display = Scalar<string>(c, null, "SELECT display FROM icd10cm_codes WHERE code = @c", ("@c", prefix));
            if (display != null) chain.Add((prefix, display));
        }
        if (chain.Count == 0) return null;
        if (chain[0].Code == dotted) return new ClinicalCodeInfo(dotted, chain[0].Display, chain.Skip(1).ToList());
        return new ClinicalCodeInfo(dotted, $"{chain[0].Display} (via {chain[0].Code})", chain);
    }

    /// <summary>Codes in the table under <paramref name="code"/> (itself included): "E11" → E11, E11.0, …, E11.9.</summary>
    public IReadOnlyList<(string Code, string Display)> CodesUnder(string code, int limit = 1000)
    {
        var dotted = ClinicalCodes.Normalise(code);
        if (dotted == null) return [];
        using var c = Connect();
        Exec(c, null, CodeTableSql);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT code, display FROM icd10cm_codes WHERE code = @c OR code LIKE @p ESCAPE '\\' ORDER BY code LIMIT @n";
        cmd.Parameters.AddWithValue("@c", dotted);
        cmd.Parameters.AddWithValue("@p", (dotted.Length == 3 ? dotted + "." : dotted) + "%");
        cmd.Parameters.AddWithValue("@n", limit);
        var list = new List<(string, string)>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add((r.GetString(0), r.GetString(1)));
        return list;
    }

    /// <summary>Number of codes in the imported table (0 before any import).</summary>
    public long CodeCount()
    {
        using var c = Connect();
        Exec(c, null, CodeTableSql);
        return Scalar<long>(c, null, "SELECT count(*) FROM icd10cm_codes");
    }
}
