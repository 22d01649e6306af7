using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Casebook.Validation;

namespace Casebook.Cluster;

/// <summary>
/// A log entry that is a change, not a study: a clinician's validation action or a purge. Entries of the log are JSON;
/// a command is an object with a top-level <c>"command"</c> key (a study record has none), so logs written before commands
/// existed read unchanged. The owning shard applies it in log order like any entry.
/// A purge entry holds only its target (a patient pseudonym or a study id) and who asked: never the erased content.
/// </summary>
public sealed record ClusterCommand
{
    public const string ValidateFinding = "validate_finding", Diagnose = "diagnose", Region = "region", PurgePatient = "purge_patient", PurgeStudy = "purge_study";

    [JsonPropertyName("command")] public required string Command { get; init; }
    /// <summary>The study a validation acts on, or the study a study purge erases.</summary>
    [JsonPropertyName("study_id")] public string? StudyId { get; init; }
    /// <summary>The patient a patient purge erases (pseudonym).</summary>
    [JsonPropertyName("patient_pseudo_id")] public string? PatientPseudoId { get; init; }
    [JsonPropertyName("author")] public required string Author { get; init; }
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    /// <summary>When the clinician acted (UTC, the engine's format): the stamp on the change, the same on every replay.</summary>
    [JsonPropertyName("time")] public required string Time { get; init; }
    /// <summary>The shard version the clinician started from; checked by the shard before the entry is appended.</summary>
    [JsonPropertyName("base_version")] public long? BaseVersion { get; init; }
    /// <summary>The action's own fields (finding, status, edit_*, code, system, display, slice, box, polygon, label).</summary>
    [JsonPropertyName("args")] public JsonObject Args { get; init; } = new();

    [JsonIgnore] public bool IsPurge => Command is PurgePatient or PurgeStudy;
    [JsonIgnore] public Attribution Who => new(Author, Role ?? "", Reason, Time);

    public string? Arg(string name) => Args[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static bool IsCommand(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        // Only the top level is looked at: a study's metadata may hold any key.
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("command")) return true;
            reader.Skip(); // the property name
            reader.Skip(); // its value
        }
        return false;
    }

    public static string NowTime() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
}

/// <summary>What the owning shard answered for a command: the result JSON (the single-node contract) or the error.</summary>
public sealed record ClusterCommandOutcome(
    [property: JsonPropertyName("ok")] JsonObject? Ok,
    [property: JsonPropertyName("error")] string? Error = null,
    [property: JsonPropertyName("message")] string? Message = null,
    [property: JsonPropertyName("current_version")] long? CurrentVersion = null);
