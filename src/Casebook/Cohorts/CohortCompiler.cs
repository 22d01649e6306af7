using System.Globalization;
using System.Text;

namespace Casebook.Cohorts;

/// <summary>
/// Compiles a <see cref="CohortDefinition"/> to one SQLite query per result (patients, studies). Every criterion becomes a
/// set of patient pseudo ids (<c>SELECT p …</c>); all/any/not become INTERSECT/UNION/EXCEPT. Values are bound parameters;
/// the only text copied into SQL is fixed SQL, whitelisted comparators and validated integers. Rows are read as of one
/// version (<c>@asof</c>) from the live-row predicates, so a saved cohort re-run at the same version gives the same answer.
/// </summary>
internal sealed class CohortCompiler
{
    readonly List<(string Name, object Value)> _params = new();
    public IReadOnlyList<(string Name, object Value)> Parameters => _params;

    const string StudyValid = "s.v_from <= @asof AND (s.v_to IS NULL OR s.v_to > @asof)";
    const string EventValid = "e.v_from <= @asof AND (e.v_to IS NULL OR e.v_to > @asof)";
    const string Universe = $"SELECT s.patient_pseudo_id AS p FROM studies s WHERE {StudyValid} UNION SELECT e.patient_pseudo_id FROM patient_events e WHERE {EventValid}";

    // FHIR code systems per definition system; clinical_codes prefixes ("ICD10:", "SNOMED:", "LOINC:").
    static readonly Dictionary<string, string[]> FhirSystems = new()
    {
        ["icd10cm"] = ["http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10"],
        ["snomed"] = ["http://snomed.info/sct"],
        ["loinc"] = ["http://loinc.org"],
    };
    static readonly Dictionary<string, string> CodePrefixes = new() { ["icd10cm"] = "ICD10:", ["snomed"] = "SNOMED:", ["loinc"] = "LOINC:" };

    string Bind(object value)
    {
        var name = "@c" + _params.Count.ToString(CultureInfo.InvariantCulture);
        _params.Add((name, value));
        return name;
    }

    /// <summary>SQL selecting the distinct matching patients (column <c>p</c>).</summary>
    public string PatientsSql(CohortDefinition d) => $"SELECT DISTINCT p FROM ({Patients(d.Criteria)})";

    /// <summary>SQL selecting (study_id, patient) of the matching patients' studies that meet the top-level study criteria.</summary>
    public string StudiesSql(CohortDefinition d, string patientsSql)
    {
        var filters = StudyFilters(d.Criteria).Select(StudyPredicate).ToList();
        var where = filters.Count == 0 ? "" : " AND " + string.Join(" AND ", filters);
        return $"SELECT s.study_id, s.patient_pseudo_id FROM studies s WHERE {StudyValid} AND s.patient_pseudo_id IN ({patientsSql}){where} ORDER BY s.study_id";
    }

    /// <summary>Study-level criteria that every listed study must meet: those of the top-level conjunction (or the root itself).</summary>
    static IEnumerable<CohortCriterion> StudyFilters(CohortCriterion root) => root switch
    {
        AllOf all => all.Items.Where(i => i.IsStudyLevel),
        { IsStudyLevel: true } => [root],
        _ => [],
    };

    string Patients(CohortCriterion c) => c switch
    {
        AllOf all => All(all),
        AnyOf any => string.Join(" UNION ", any.Items.Select(i => $"SELECT p FROM ({Patients(i)})")),
        NotOf not => $"{Universe} EXCEPT SELECT p FROM ({Patients(not.Item)})",
        CodeCriterion code => Code(code),
        LabCriterion lab => Lab(lab),
        EventCriterion ev => Event(ev),
        { IsStudyLevel: true } => $"SELECT s.patient_pseudo_id AS p FROM studies s WHERE {StudyValid} AND {StudyPredicate(c)}",
        _ => throw new NotSupportedException($"criterion {c.GetType().Name} has no SQL form"),
    };

    /// <summary>
    /// Positive items intersect; NOT items are subtracted from that (compound operators are left-associative:
    /// ((A ∩ B) − C) − D), so a NOT inside an all never has to list every patient first.
    /// </summary>
    string All(AllOf all)
    {
        var positive = all.Items.Where(i => i is not NotOf).Select(i => $"SELECT p FROM ({Patients(i)})").ToList();
        var negative = all.Items.OfType<NotOf>().Select(n => $"SELECT p FROM ({Patients(n.Item)})").ToList();
        if (positive.Count == 0) positive.Add(Universe);
        var sql = string.Join(" INTERSECT ", positive);
        return negative.Count == 0 ? sql : sql + " EXCEPT " + string.Join(" EXCEPT ", negative);
    }

    string StudyPredicate(CohortCriterion c)
    {
        switch (c)
        {
            case FindingCriterion f:
                // Only affirmed findings count: not negated, and NLP objects marked affirmed (rule-out, possible, historical,
                // a relative's are not). A string element (older rows) counts as affirmed.
                return $"EXISTS (SELECT 1 FROM json_each(s.pathology_findings) j WHERE lower(CASE WHEN j.type = 'object' THEN json_extract(j.value, '$.term') ELSE j.value END) = {Bind(f.Term)}" +
                       " AND NOT (j.type = 'object' AND (coalesce(json_extract(j.value, '$.negated'), 0) = 1 OR coalesce(json_extract(j.value, '$.affirmed'), 1) = 0)))";
            case ValidatedCriterion v:
                var exists = "EXISTS (SELECT 1 FROM json_each(s.pathology_findings) j WHERE j.type = 'object' AND json_extract(j.value, '$.validated') = 1)";
                return v.Value ? exists : "NOT " + exists;
            case ModalityCriterion m:
                return $"upper(s.modality) IN ({string.Join(", ", m.Values.Select(x => Bind(x)))})";
            case SexCriterion sx:
                return $"upper(json_extract(s.metadata, '$.sex')) IN ({string.Join(", ", sx.Values.Select(x => Bind(x)))})";
            case AgeCriterion age:
                return $"json_extract(s.metadata, '$.age_band') IN ({string.Join(", ", age.Bands.Select(x => Bind(x)))})";
            case ExamDateCriterion d:
                var parts = new List<string> { "s.exam_date IS NOT NULL" };
                if (d.From != null) parts.Add($"s.exam_date >= {Bind(d.From)}");
                if (d.To != null) parts.Add($"substr(s.exam_date, 1, 10) <= {Bind(d.To)}");
                return "(" + string.Join(" AND ", parts) + ")";
            default:
                throw new NotSupportedException($"criterion {c.GetType().Name} is not study-level");
        }
    }

    /// <summary>Code match on column <paramref name="col"/> holding a bare code: exact, or (ICD-10-CM) by hierarchy: E11 matches E11.9, E11.6 matches E11.65.</summary>
    string CodeMatch(string col, string system, string code)
    {
        var p = Bind(code.ToUpperInvariant());
        if (system is "icd10cm" or "any")
        {
            var sep = code.Contains('.') ? "" : ".";
            return $"(upper({col}) = {p} OR substr(upper({col}), 1, length({p}) + {sep.Length}) = {p} || '{sep}')";
        }
        return $"upper({col}) = {p}";
    }

    /// <summary>
    /// The same match on <c>patient_events.code</c> written as ranges, so the (code, type) index serves it: codes are
    /// compared as given and upper-cased ("e11.9" in a source would not match; ICD-10-CM, SNOMED and LOINC codes have no
    /// lower case). 'E11' → code = 'E11' OR 'E11.' ≤ code &lt; 'E11/' ('/' follows '.'); 'E11.6' → 'E11.6' ≤ code &lt; 'E11.7'.
    /// </summary>
    string EventCodeMatch(string system, string code)
    {
        code = code.ToUpperInvariant();
        var exact = Bind(code);
        if (system is not ("icd10cm" or "any")) return $"e.code = {exact}";
        var prefix = code.Contains('.') ? code : code + ".";
        var upper = prefix[..^1] + (char)(prefix[^1] + 1);
        return $"(e.code = {exact} OR (e.code >= {Bind(prefix)} AND e.code < {Bind(upper)}))";
    }

    string TimeRange(string col, string? from, string? to)
    {
        var sb = new StringBuilder();
        if (from != null || to != null) sb.Append($" AND {col} IS NOT NULL");
        if (from != null) sb.Append($" AND {col} >= {Bind(from)}");
        // sort_time is "yyyy-MM-ddTHH:mm:ssZ": the whole 'to' day counts.
        if (to != null) sb.Append($" AND substr({col}, 1, 10) <= {Bind(to)}");
        return sb.ToString();
    }

    string SystemMatch(string system)
    {
        if (system == "any") return "";
        return $" AND e.code_system IN ({string.Join(", ", FhirSystems[system].Select(x => Bind(x)))})";
    }

    string Code(CodeCriterion c)
    {
        // Study codes: clinical_codes holds "ICD10:E11.9" (NLP, affirmed only) and FHIR-given "SNOMED:…"/"LOINC:…".
        string studyCode;
        if (c.System == "any")
            studyCode = CodeMatch("substr(j.value, instr(j.value, ':') + 1)", "any", c.Code);
        else
            studyCode = $"upper(j.value) LIKE {Bind(CodePrefixes[c.System] + "%")} AND {CodeMatch("substr(j.value, instr(j.value, ':') + 1)", c.System, c.Code)}";
        var studies = $"SELECT s.patient_pseudo_id AS p FROM studies s, json_each(s.clinical_codes) j WHERE {StudyValid} AND {studyCode}{TimeRange("s.exam_date", c.From, c.To)}";
        // Condition events: only the statuses asked for (confirmed by default); refuted and entered-in-error never count.
        var statuses = string.Join(", ", c.Statuses.Select(x => Bind(x)));
        var events = $"SELECT e.patient_pseudo_id FROM patient_events e WHERE {EventValid} AND e.type = 'condition' AND e.code IS NOT NULL" +
                     $"{SystemMatch(c.System)} AND {EventCodeMatch(c.System, c.Code)} AND lower(coalesce(e.status, '')) IN ({statuses})" +
                     $" AND coalesce(e.status, '') NOT IN ('refuted', 'entered-in-error'){TimeRange("e.sort_time", c.From, c.To)}";
        return $"{studies} UNION {events}";
    }

    string Event(EventCriterion c)
    {
        var code = c.Code != null ? $" AND {EventCodeMatch(c.System ?? "any", c.Code)}" : "";
        return $"SELECT e.patient_pseudo_id AS p FROM patient_events e WHERE {EventValid} AND e.type = {Bind(c.Type)}{SystemMatch(c.System ?? "any")}{code}" +
               $" AND coalesce(e.status, '') NOT IN ('refuted', 'entered-in-error'){TimeRange("e.sort_time", c.From, c.To)}";
    }

    string Lab(LabCriterion c)
    {
        // Compared in UCUM canonical units (what FHIR ingest stored in canonical_value/unit), with a relative tolerance so
        // that a value equal to the threshold in another unit is not lost to float rounding. A value whose unit had no
        // canonical form compares as given when its unit is the threshold's unit.
        var eps = Math.Abs(c.CanonicalValue) * 1e-9 + 1e-12;
        var (cv, rv) = (Bind(c.CanonicalValue), Bind(c.Value));
        var epsRaw = Math.Abs(c.Value) * 1e-9 + 1e-12;
        string Cmp(string col, string v, double e) => c.Comparator switch
        {
            ">=" => $"{col} >= {v} - {e.ToString("R", CultureInfo.InvariantCulture)}",
            ">" => $"{col} > {v} + {e.ToString("R", CultureInfo.InvariantCulture)}",
            "<=" => $"{col} <= {v} + {e.ToString("R", CultureInfo.InvariantCulture)}",
            "<" => $"{col} < {v} - {e.ToString("R", CultureInfo.InvariantCulture)}",
            _ => $"abs({col} - {v}) <= {e.ToString("R", CultureInfo.InvariantCulture)}",
        };
        var filter = $"FROM patient_events e WHERE {EventValid} AND e.type = 'observation' AND e.code IN ({string.Join(", ", c.Codes.Select(x => Bind(x)))})" +
                     $" AND ((e.canonical_unit = {Bind(c.CanonicalUnit)} AND {Cmp("e.canonical_value", cv, eps)})" +
                     $" OR (e.canonical_value IS NULL AND e.unit = {Bind(c.Unit)} AND {Cmp("e.value", rv, epsRaw)}))" +
                     TimeRange("e.sort_time", c.From, c.To);
        if (c.Count <= 1) return $"SELECT e.patient_pseudo_id AS p {filter}";
        if (c.WithinDays is not { } days)
            return $"SELECT e.patient_pseudo_id AS p {filter} GROUP BY e.patient_pseudo_id HAVING COUNT(*) >= {c.Count.ToString(CultureInfo.InvariantCulture)}";
        // N results within W days: for each result, count the results in [its time, its time + W days]; a window that
        // starts at the first of N qualifying results holds all N.
        return $"SELECT p FROM (SELECT e.patient_pseudo_id AS p, COUNT(*) OVER (PARTITION BY e.patient_pseudo_id ORDER BY julianday(e.sort_time) " +
               $"RANGE BETWEEN CURRENT ROW AND {days.ToString(CultureInfo.InvariantCulture)} FOLLOWING) AS n {filter} AND e.sort_time IS NOT NULL) " +
               $"WHERE n >= {c.Count.ToString(CultureInfo.InvariantCulture)}";
    }
}
