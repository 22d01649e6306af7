using System.Diagnostics;
using System.ComponentModel;

namespace Casebook.Extract;

/// <summary>
/// Runs a command-line tool (tesseract, pdftoppm, ffmpeg, pocketsphinx…) with a hard timeout: on timeout or
/// cancellation the whole process tree is killed, so a stuck tool never hangs ingest.
/// </summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
    }

    /// <summary>Runs <paramref name="file"/>; throws <see cref="ExternalToolException"/> when it is missing, times out or writes more than <paramref name="maxStdoutBytes"/>.</summary>
    public static Result Run(string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct = default,
        string? workingDirectory = null, long maxStdoutBytes = 1L << 30)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Tesseract spawns one OpenMP thread per core by default; with pages processed in parallel that oversubscribes.
        psi.Environment["OMP_THREAD_LIMIT"] = "1";
        Process p;
        try { p = Process.Start(psi) ?? throw new ExternalToolException(file, "could not be started"); }
        catch (Win32Exception e) { throw new ExternalToolException(file, $"is not installed or not on PATH ({e.Message}); run scripts/setup-system.sh", missing: true); }
        using (p)
        {
            p.StandardInput.Close();
            var stdout = new MemoryStream();
            bool overflow = false;
            var outTask = Task.Run(() =>
            {
                var buf = new byte[81920];
                int n;
                var s = p.StandardOutput.BaseStream;
                while ((n = s.Read(buf, 0, buf.Length)) > 0)
                {
                    if (stdout.Length + n > maxStdoutBytes) { overflow = true; continue; }
                    stdout.Write(buf, 0, n);
                }
            });
            var errTask = p.StandardError.ReadToEndAsync();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
            linked.CancelAfter(timeout);
            try { p.WaitForExitAsync(linked.Token).GetAwaiter().GetResult(); }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                p.WaitForExit(5000);
                ct.ThrowIfCancellationRequested();
                throw new ExternalToolException(file, $"timed out after {timeout.TotalSeconds:0} s and was killed", timedOut: true);
            }
            outTask.Wait(TimeSpan.FromSeconds(10));
            var stderr = errTask.Wait(TimeSpan.FromSeconds(10)) ? errTask.Result : "";
            if (overflow) throw new ExternalToolException(file, $"wrote more than {maxStdoutBytes} bytes");
            return new Result(p.ExitCode, stdout.ToArray(), stderr);
        }
    }

    /// <summary>True when <paramref name="file"/> can be found on PATH (or is an existing path).</summary>
    public static bool IsAvailable(string file)
    {
        if (file.Contains('/')) return File.Exists(file);
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, file))) return true;
        return false;
    }
}

public sealed class ExternalToolException(string tool, string reason, bool missing = false, bool timedOut = false)
    : Exception($"{tool} {reason}")
{
    public string Tool { get; } = tool;
    public bool Missing { get; } = missing;
    public bool TimedOut { get; } = timedOut;
}
