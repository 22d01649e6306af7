using System.Globalization;
using Casebook.Timeline;

namespace Casebook.Cli;

public static partial class Commands
{
    /// <summary>
    /// `timeline STUDY_ID [--db DIR] [--window DAYS] [--outcome-window DAYS] --json` →
    /// {"study_id","events":[...],"outcomes":[...]}: the patient's events within ±window days of the study (events with no
    /// time last, marked missing) and the study's outcomes. Contract (issue 5): keep the keys stable.
    /// </summary>
    static int Timeline(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Timeline(a, cluster);
        if (a.Positional.Count != 1) throw new UsageException("timeline needs exactly one STUDY_ID");
        var options = new TimelineOptions();
        if (a.Long("window") is { } w) options.WindowDays = w is > 0 and <= 36500 ? (int)w : throw new UsageException("--window must be 1..36500 days");
        if (a.Long("outcome-window") is { } ow) options.OutcomeWindowDays = ow is > 0 and <= 36500 ? (int)ow : throw new UsageException("--outcome-window must be 1..36500 days");
        var json = a.Flag("json");
        using var db = OpenDb(a);
        a.EnsureAllUsed();
        var t = db.Timeline(a.Positional[0], options) ?? throw new InvalidOperationException($"no study '{a.Positional[0]}' in this database");
        if (json)
        {
            WriteJson(t.ToJson());
            return 0;
        }
        Console.Out.WriteLine($"study {t.StudyId} (patient {t.PatientPseudoId[..12]}…, at {t.StudyTime?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "unknown time"})");
        Console.Out.WriteLine($"events within {options.WindowDays} days: {t.Events.Count}");
        foreach (var e in t.Events) Console.Out.WriteLine($"  {e.Time ?? "(no time)",-25} {e.Text}");
        Console.Out.WriteLine($"outcomes within {options.OutcomeWindowDays} days after: {t.Outcomes.Count}");
        foreach (var o in t.Outcomes) Console.Out.WriteLine($"  +{o.DaysAfter,6:0.#} d  {o.Kind,-18} {o.Event.Text}");
        return 0;
    }
}
