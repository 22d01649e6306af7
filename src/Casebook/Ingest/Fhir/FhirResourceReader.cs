using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace Casebook.Ingest.Fhir;

/// <summary>One parsed resource and where it came from (file + "entry[3]" or "line 17"), for error messages.</summary>
public sealed record FhirEntry(string File, string Location, Resource Resource, string? FullUrl)
{
    public string Label => $"{Resource.TypeName}/{Resource.Id ?? "(no id)"} ({Path.GetFileName(File)} {Location})";
}

/// <summary>
/// Reads FHIR R4 JSON with the Firely SDK's POCO deserializer in <see cref="DeserializationMode.Recoverable"/> mode
/// (unknown elements and small syntax slips are tolerated as long as no data is lost): a Bundle (transaction, batch,
/// collection, searchset, …) or a single resource in a .json file, and bulk-data NDJSON (one resource per line, FHIR Bulk
/// Data Access §ndjson). Each resource is deserialized on its own, so one bad resource is reported with its file,
/// position, type and id, and the rest of the file goes on.
/// </summary>
public static class FhirResourceReader
{
    // Strict about syntax and shape (wrong JSON kinds, unknown elements, bad primitives, unknown codes) but without the
    // POCO validator: its cardinality and invariant checks doubled the parse time, and the mapper reports the elements it
    // needs (subject, code, time) itself.
    static readonly FhirJsonDeserializer Strict = new(new DeserializerSettings { Validator = null });
    static readonly FhirJsonDeserializer Tolerant = new(new DeserializerSettings().UsingMode(DeserializationMode.Recoverable));

    /// <summary>True for .ndjson files, and .json files whose first 4 KiB name a "resourceType".</summary>
    public static bool IsFhirFile(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".ndjson") return true;
        if (ext != ".json") return false;
        try
        {
            using var fs = File.OpenRead(path);
            var head = new byte[4096];
            var n = fs.Read(head);
            return Encoding.UTF8.GetString(head, 0, n).Contains("\"resourceType\"", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>The FHIR files of a folder (recursive, in name order).</summary>
    public static IEnumerable<string> InFolder(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Where(IsFhirFile);

    public static List<FhirEntry> Read(string path, List<IngestError> errors)
    {
        var list = new List<FhirEntry>();
        try
        {
            if (Path.GetExtension(path).Equals(".ndjson", StringComparison.OrdinalIgnoreCase)) ReadNdjson(path, list, errors);
            else ReadJson(path, list, errors);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new IngestError(path, $"cannot read FHIR file: {e.Message}"));
        }
        return list;
    }

    static void ReadJson(string path, List<FhirEntry> list, List<IngestError> errors)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { errors.Add(new IngestError(path, $"not valid JSON: {e.Message}")); return; }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("resourceType", out var rt) || rt.ValueKind != JsonValueKind.String)
            {
                errors.Add(new IngestError(path, "not a FHIR resource: the top-level JSON object has no \"resourceType\""));
                return;
            }
            if (rt.GetString() != "Bundle") { Add(path, "resource", root, null, list, errors); return; }
            if (!root.TryGetProperty("entry", out var entries)) return; // an empty Bundle is valid
            if (entries.ValueKind != JsonValueKind.Array) { errors.Add(new IngestError(path, "Bundle.entry is not an array")); return; }
            var i = 0;
            foreach (var entry in entries.EnumerateArray())
            {
                var where = $"entry[{i++}]";
                if (entry.ValueKind != JsonValueKind.Object) { errors.Add(new IngestError(path, $"{where}: not a JSON object")); continue; }
                // Transaction/batch DELETE entries carry no resource; there is nothing to ingest.
                if (entry.TryGetProperty("request", out var req) && req.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == "DELETE") continue;
                if (!entry.TryGetProperty("resource", out var resource)) { errors.Add(new IngestError(path, $"{where}: Bundle entry has no resource")); continue; }
                var fullUrl = entry.TryGetProperty("fullUrl", out var fu) && fu.ValueKind == JsonValueKind.String ? fu.GetString() : null;
                Add(path, where, resource, fullUrl, list, errors);
            }
        }
    }

    static void ReadNdjson(string path, List<FhirEntry> list, List<IngestError> errors)
    {
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(text); }
            catch (JsonException e) { errors.Add(new IngestError(path, $"line {line}: not valid JSON: {e.Message}")); continue; }
            using (doc) Add(path, $"line {line}", doc.RootElement, null, list, errors);
        }
    }

    static void Add(string path, string where, JsonElement json, string? fullUrl, List<FhirEntry> list, List<IngestError> errors)
    {
        if (json.ValueKind != JsonValueKind.Object) { errors.Add(new IngestError(path, $"{where}: resource is not a JSON object")); return; }
        var type = json.TryGetProperty("resourceType", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString() : null;
        var id = json.TryGetProperty("id", out var idp) && idp.ValueKind == JsonValueKind.String ? idp.GetString() : null;
        var label = $"{where} {type ?? "(no resourceType)"}/{id ?? "(no id)"}";
        if (type == null) { errors.Add(new IngestError(path, $"{label}: no \"resourceType\"")); return; }
        if (!Hl7.Fhir.Model.ModelInfo.IsKnownResource(type)) { errors.Add(new IngestError(path, $"{label}: '{type}' is not an R4 resource type")); return; }
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(json); // the resource's bytes, no string copy
        // Strict first (clean resources, the common case, pass at once); on failure the tolerant mode decides whether the
        // resource can still be used, and the strict issues are reported against it either way.
        var strictReader = new Utf8JsonReader(raw);
        if (Strict.TryDeserializeResource(ref strictReader, out var resource, out var issues) && resource != null)
        {
            list.Add(new FhirEntry(path, where, resource, fullUrl));
            return;
        }
        var tolerantReader = new Utf8JsonReader(raw);
        if (Tolerant.TryDeserializeResource(ref tolerantReader, out var tolerated, out _) && tolerated != null)
        {
            var why = issues.Select(x => x.Message).Distinct().ToList();
            errors.Add(new IngestError(path, $"{label}: ingested despite: {string.Join("; ", why.Take(3))}{(why.Count > 3 ? $" (+{why.Count - 3} more)" : "")}"));
            list.Add(new FhirEntry(path, where, tolerated, fullUrl));
            return;
        }
        var reasons = issues.Take(3).Select(x => x.Message).ToList();
        errors.Add(new IngestError(path, $"{label}: not a valid R4 resource: {string.Join("; ", reasons)}{(issues.Count() > 3 ? $" (+{issues.Count() - 3} more)" : "")}"));
    }
}
