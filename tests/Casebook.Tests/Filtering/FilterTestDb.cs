using Casebook.Search.Filtering;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Filtering;

/// <summary>An in-memory SQLite database with the study and segment columns filters run against.</summary>
public sealed class FilterTestDb : IDisposable
{
    public SqliteConnection Db { get; } = new("Data Source=:memory:");

    public FilterTestDb()
    {
        Db.Open();
        Exec("""
            CREATE TABLE studies(study_id TEXT PRIMARY KEY, patient_pseudo_id TEXT, modality TEXT, exam_date TEXT,
              report_text TEXT, dicom_mime TEXT, clinical_codes TEXT, metadata TEXT,
              anatomical_regions TEXT, pathology_findings TEXT, risk_factors TEXT);
            CREATE TABLE segments(id INTEGER PRIMARY KEY, study_id TEXT, kind TEXT, text TEXT);
            INSERT INTO studies VALUES
             ('S1','P1','CR','2024-01-15','Small left pleural effusion.','application/dicom',
              '["ICD10:J90","SNOMED:60046008"]','{"body_part":"CHEST","sex":"F","age_band":"40-44","manufacturer":"Agfa","age":42}',
              '["chest","lung"]','["pleural effusion"]','[]'),
             ('S2','P2','CT','2024-03-01','Pulmonary embolism.','application/dicom',
              '["ICD10:I26.9"]','{"body_part":"CHEST","sex":"M","age_band":"90+","device":"CT scanner"}',
              '["chest"]','[{"name":"pulmonary embolism"},{"name":"effusion","negated":true}]','["smoker"]'),
             ('S3','P3','MR','2023-12-31','Normal brain.','image/png',
              '[]','{"body_part":"HEAD","sex":"F","station":"MR1"}',
              '["brain"]','[]','[]'),
             ('S4','O''Brien',NULL,NULL,NULL,NULL,NULL,'{}',NULL,NULL,NULL),
             ('S5','P5','us','2025-06-30','Gallstones.',NULL,'["ICD10:K80.2"]','{"age":"45","sex":"M"}','["abdomen"]','["cholelithiasis"]','["obesity"]');
            INSERT INTO segments(study_id, kind, text) VALUES
             ('S1','report_paragraph','Small left pleural effusion.'), ('S1','image_slice',NULL),
             ('S2','image_slice',NULL), ('S3','dictation_segment','Normal brain.');
            """);
    }

    public void Exec(string sql)
    {
        using var c = Db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    /// <summary>Study ids (sorted) that the filter keeps; joins segments only when the filter needs them.</summary>
    public string[] Run(string filter)
    {
        var f = FilterCompiler.Compile(filter);
        using var c = Db.CreateCommand();
        c.CommandText = f.UsesSegmentFields
            ? $"SELECT DISTINCT s.study_id FROM studies s JOIN segments g ON g.study_id = s.study_id WHERE {f.Sql} ORDER BY 1"
            : $"SELECT s.study_id FROM studies s WHERE {f.Sql} ORDER BY 1";
        f.ApplyTo(c);
        using var r = c.ExecuteReader();
        var ids = new List<string>();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids.ToArray();
    }

    public long Count(string table)
    {
        using var c = Db.CreateCommand();
        c.CommandText = $"SELECT count(*) FROM {table}";
        return (long)c.ExecuteScalar()!;
    }

    public void Dispose() => Db.Dispose();
}
