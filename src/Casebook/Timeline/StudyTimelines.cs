using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Timeline;

/// <summary>Timeline and outcome settings.</summary>
public sealed class TimelineOptions
{
    /// <summary>Days before and after a study that its timeline_events column (and `timeline`'s events) cover.</summary>
    public int WindowDays { get; set; } = 365;
    /// <summary>Days after a study in which events count as its outcomes.</summary>
    public int OutcomeWindowDays { get; set; } = 365;
    /// <summary>Most events one study row holds (those nearest the study in time), so rows stay a sane size.</summary>
    public int MaxStudyEvents { get; set; } = 200;
}

/// <summary>A study's events and outcomes (`./casebook timeline STUDY_ID --json`).</summary>
public sealed record StudyTimeline(string StudyId, string PatientPseudoId, DateTimeOffset? StudyTime, IReadOnlyList<TimelineEvent> Events, IReadOnlyList<StudyOutcome> Outcomes)
{
    /// <summary>{"study_id","events","outcomes"}: what `timeline --json` prints and `GET /api/studies/{id}/timeline` answers (one writer).</summary>
    public JsonObject ToJson() => new()
    {
        ["study_id"] = StudyId,
        ["events"] = new JsonArray(Events.Select(e => (JsonNode)e.ToJson()).ToArray()),
        ["outcomes"] = new JsonArray(Outcomes.Select(o => (JsonNode)o.ToJson()).ToArray()),
    };
}

/// <summary>
/// The window of a patient's events that a study row carries in timeline_events: events within ±<see cref="TimelineOptions.WindowDays"/>
/// of the study, at most <see cref="TimelineOptions.MaxStudyEvents"/> (the nearest in time), in time order. A study without a
/// date carries the patient's latest events. Events without a time are not placed in a window (the full list keeps them).
/// </summary>
public static class StudyTimelines
{
    /// <summary>The study's instant: FHIR ImagingStudy.started when known (metadata.fhir.sort_time), else exam_date at 00:00 UTC.</summary>
    public static DateTimeOffset? StudyTime(StudyRecord s)
    {
        if (s.Metadata["fhir"]?["sort_time"]?.GetValue<string>() is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return at;
        if (s.ExamDate != null && DateOnly.TryParseExact(s.ExamDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            return new DateTimeOffset(d.Year, d.Month, d.Day, 0, 0, 0, TimeSpan.Zero);
        return null;
    }

    public static DateTimeOffset? EventTime(TimelineEvent e) =>
        e.SortTime != null && DateTimeOffset.TryParse(e.SortTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    public static List<TimelineEvent> Window(IReadOnlyList<TimelineEvent> events, DateTimeOffset? at, int days, int max)
    {
        var timed = events.Where(e => e.SortTime != null).ToList();
        if (at is not { } t) return timed.TakeLast(max).ToList();
        var near = timed.Select(e => (e, d: Math.Abs((EventTime(e)!.Value - t).TotalDays))).Where(x => x.d <= days).ToList();
        if (near.Count > max) near = near.OrderBy(x => x.d).Take(max).ToList();
        return near.Select(x => x.e).OrderBy(e => e.SortTime, StringComparer.Ordinal).ThenBy(e => e.Type, StringComparer.Ordinal).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
    }

    public static JsonArray Column(StudyRecord s, IReadOnlyList<TimelineEvent> events, TimelineOptions options) =>
        new(Window(events, StudyTime(s), options.WindowDays, options.MaxStudyEvents).Select(e => (JsonNode)e.ToJson()).ToArray());
}
