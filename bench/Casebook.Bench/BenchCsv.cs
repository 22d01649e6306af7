using Sylvan.Data.Csv;

namespace Casebook.Bench;

/// <summary>RFC 4180 rows (header first) read with Sylvan.Data.Csv, the reader ingest uses.</summary>
static class BenchCsv
{
    public static IEnumerable<string[]> Rows(string path)
    {
        // Report fields can be long (MTSamples transcriptions): let the buffer grow past Sylvan's default.
        using var csv = CsvDataReader.Create(path, new CsvDataReaderOptions { HasHeaders = false, MaxBufferSize = 1 << 24 });
        while (csv.Read())
        {
            var row = new string[csv.RowFieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = csv.GetString(i);
            yield return row;
        }
    }
}
