using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Timeline;

/// <summary>Kinds of outcome.</summary>
public static class OutcomeKind
{
    public const string Diagnosis = "diagnosis";
    public const string Procedure = "procedure";
    public const string Medication = "medication";
    public const string AbnormalLab = "abnormal_lab";
    public const string AbnormalVital = "abnormal_vital";
    public const string FollowUpImaging = "follow_up_imaging";
    public static readonly IReadOnlyList<string> All = [Diagnosis, Procedure, Medication, AbnormalLab, AbnormalVital, FollowUpImaging];
}

/// <summary>One outcome of a study: an event after it, what kind of outcome it is, and how many days after.</summary>
public sealed record StudyOutcome(string Kind, double DaysAfter, TimelineEvent Event)
{
    public JsonObject ToJson()
    {
        var o = Event.ToJson();
        o.Insert(0, "kind", Kind);
        o.Insert(1, "days_after", Math.Round(DaysAfter, 2));
        return o;
    }
}

/// <summary>
/// A study's outcomes: its patient's events from the study's time (same-day events of its encounter count, e.g. the
/// diagnosis made at the visit) up to <see cref="TimelineOptions.OutcomeWindowDays"/> after, that are
/// <list type="bullet">
/// <item>confirmed diagnoses (Condition verificationStatus = confirmed; provisional, differential, refuted, entered-in-error
/// and conditions with no verification status are not confirmed),</item>
/// <item>procedures (not entered-in-error, not-done, preparation), other than the study's own exam,</item>
/// <item>medications (requests and statements, not entered-in-error, cancelled or draft),</item>
/// <item>abnormal labs and vitals (abnormal flag true; unknown is not abnormal),</item>
/// <item>follow-up imaging (imaging events of other studies).</item>
/// </list>
/// A study with no time has no outcomes (nothing to count from).
/// </summary>
public static class StudyOutcomes
{
    static readonly HashSet<string> Void = ["entered-in-error", "not-done", "cancelled", "draft", "preparation"];

    public static List<StudyOutcome> Of(StudyRecord study, DateTimeOffset? at, IReadOnlyList<TimelineEvent> events, TimelineOptions options)
    {
        var list = new List<StudyOutcome>();
        if (at is not { } t) return list;
        var exam = study.ReportText ?? "";
        foreach (var e in events)
        {
            if (StudyTimelines.EventTime(e) is not { } when) continue;
            var days = (when - t).TotalDays;
            if (days < 0 || days > options.OutcomeWindowDays) continue;
            if (e.StudyId == study.StudyId) continue; // the study itself and its own reports
            if (e.Status != null && Void.Contains(e.Status)) continue;
            var kind = e.Type switch
            {
                EventType.Condition when e.Status == "confirmed" => OutcomeKind.Diagnosis,
                // The exam itself (named in the study's EXAM text, at the study's time) is not its own outcome.
                EventType.Procedure when !(days == 0 && e.Display != null && exam.Contains(e.Display, StringComparison.OrdinalIgnoreCase)) => OutcomeKind.Procedure,
                EventType.Medication => OutcomeKind.Medication,
                EventType.Observation when e.Abnormal == true => e.Detail["category"]?.GetValue<string>() == "vital-signs" ? OutcomeKind.AbnormalVital : OutcomeKind.AbnormalLab,
                EventType.Imaging when e.StudyId != null => OutcomeKind.FollowUpImaging,
                _ => null,
            };
            if (kind != null) list.Add(new StudyOutcome(kind, days, e));
        }
        return list;
    }
}

/// <summary>How many studies had an outcome (per kind, and per kind + code) and which ones.</summary>
public sealed record OutcomeCount(string Kind, string? CodeSystem, string? Code, string? Display, int Studies, IReadOnlyList<string> StudyIds);

/// <summary>Outcomes over a set of studies: <see cref="Kinds"/> counts any outcome of a kind, <see cref="Codes"/> each coded outcome.</summary>
public sealed record OutcomeSummary(int Studies, int StudiesWithTime, int WindowDays, IReadOnlyList<OutcomeCount> Kinds, IReadOnlyList<OutcomeCount> Codes, IReadOnlyList<string> Missing)
{
    public static OutcomeSummary From(Dictionary<string, IReadOnlyList<StudyOutcome>> per, int withTime, List<string> missing, int windowDays)
    {
        var kinds = OutcomeKind.All.Select(k =>
        {
            var ids = per.Where(p => p.Value.Any(o => o.Kind == k)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
            return new OutcomeCount(k, null, null, null, ids.Count, ids);
        }).ToList();
        var codes = per.SelectMany(p => p.Value.Select(o => (Study: p.Key, o)))
            .GroupBy(x => (x.o.Kind, x.o.Event.CodeSystem, Code: x.o.Event.Code ?? x.o.Event.Display))
            .Select(g =>
            {
                var ids = g.Select(x => x.Study).Distinct().Order(StringComparer.Ordinal).ToList();
                return new OutcomeCount(g.Key.Kind, g.Key.CodeSystem, g.First().o.Event.Code, g.First().o.Event.Display, ids.Count, ids);
            })
            .OrderByDescending(c => c.Studies).ThenBy(c => c.Kind, StringComparer.Ordinal).ThenBy(c => c.Display, StringComparer.Ordinal).ToList();
        return new OutcomeSummary(per.Count, withTime, windowDays, kinds, codes, missing);
    }
}
