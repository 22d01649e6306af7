namespace Casebook.Ingest.Fhir;

/// <summary>
/// Adult reference intervals for a few common LOINC labs and vitals, used only when an Observation carries neither an
/// interpretation nor a referenceRange (Synthea, for one, gives neither). Bounds are written in conventional units and
/// compared in UCUM canonical units (<see cref="LabUnits"/>), so a site reporting g/L, or HbA1c in mmol/mol, is judged by
/// the same threshold. The basis is recorded as "reference_interval_table" so a reader can tell it from the source's own flag.
/// Values are general adult screening thresholds (e.g. ADA HbA1c ≥ 5.7 %, NCEP lipids, JNC blood pressure), not a lab's ranges.
/// </summary>
public static class ReferenceIntervals
{
    public sealed record Interval(double? Low, double? High, string Unit);

    static readonly Dictionary<string, Interval> Table = new()
    {
        ["4548-4"] = new(4.0, 5.6, "%"),            // HbA1c (NGSP)
        ["17856-6"] = new(4.0, 5.6, "%"),
        ["59261-8"] = new(20, 38, "mmol/mol"),      // HbA1c (IFCC)
        ["2339-0"] = new(70, 99, "mg/dL"),          // glucose, blood
        ["2345-7"] = new(70, 99, "mg/dL"),          // glucose, serum/plasma
        ["2093-3"] = new(null, 200, "mg/dL"),       // total cholesterol
        ["2571-8"] = new(null, 150, "mg/dL"),       // triglycerides
        ["18262-6"] = new(null, 130, "mg/dL"),      // LDL cholesterol
        ["13457-7"] = new(null, 130, "mg/dL"),
        ["2085-9"] = new(40, null, "mg/dL"),        // HDL cholesterol
        ["38483-4"] = new(0.6, 1.3, "mg/dL"),       // creatinine
        ["2160-0"] = new(0.6, 1.3, "mg/dL"),
        ["6299-2"] = new(7, 20, "mg/dL"),           // urea nitrogen
        ["2947-0"] = new(135, 145, "mmol/L"),       // sodium
        ["2951-2"] = new(135, 145, "mmol/L"),
        ["6298-4"] = new(3.5, 5.1, "mmol/L"),       // potassium
        ["2823-3"] = new(3.5, 5.1, "mmol/L"),
        ["718-7"] = new(12, 17.5, "g/dL"),          // haemoglobin
        ["33914-3"] = new(60, null, "mL/min/{1.73_m2}"), // eGFR
        ["39156-5"] = new(18.5, 30, "kg/m2"),       // BMI
        ["8480-6"] = new(90, 140, "mm[Hg]"),        // systolic blood pressure
        ["8462-4"] = new(60, 90, "mm[Hg]"),         // diastolic blood pressure
        ["8867-4"] = new(60, 100, "/min"),          // heart rate
    };

    public static Interval? ForLoinc(string? code) => code != null && Table.TryGetValue(code, out var i) ? i : null;
}
