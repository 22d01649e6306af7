namespace Casebook.Cli;

/// <summary>A progress bar on stderr (stdout carries only answers); redraws at most ~10 times a second.</summary>
public sealed class ProgressBar : IProgress<Progress>
{
    DateTime _last = DateTime.MinValue;
    bool _drawn;

    public void Report(Progress p)
    {
        var now = DateTime.UtcNow;
        if (p.Done < p.Total && (now - _last).TotalMilliseconds < 100) return;
        _last = now;
        const int width = 30;
        var fraction = p.Total == 0 ? 1 : (double)p.Done / p.Total;
        var filled = (int)(fraction * width);
        var line = $"\r{p.Stage,-10} [{new string('#', filled)}{new string('.', width - filled)}] {p.Done}/{p.Total}";
        if (Console.IsErrorRedirected) { if (p.Done == p.Total) Console.Error.WriteLine(line.TrimStart('\r')); return; }
        Console.Error.Write(line);
        _drawn = true;
        if (p.Done >= p.Total) { Console.Error.WriteLine(); _drawn = false; }
    }

    public void Finish() { if (_drawn) Console.Error.WriteLine(); _drawn = false; }
}
