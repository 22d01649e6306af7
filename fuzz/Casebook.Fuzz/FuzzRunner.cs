using System.Diagnostics;
using System.Security.Cryptography;

namespace Casebook.Fuzz;

public sealed record MutationStats(long Execs, int Findings, TimeSpan Elapsed, IReadOnlyList<string> Messages);

/// <summary>Runs <see cref="DicomFuzzTarget"/> with a per-input timeout, and the in-process mutation loop.</summary>
public static class FuzzRunner
{
    /// <summary>Null when the input was handled (parsed, or rejected with a documented error); else what went wrong.</summary>
    /// <remarks>
    /// A first run over the timeout is repeated once, and only a second one over it counts as a hang: on a loaded
    /// machine (CI, or the shared 2-core box at nice 19) the first run of a code path also pays for JIT and library loading.
    /// </remarks>
    public static string? RunWithTimeout(byte[] input, TimeSpan timeout)
    {
        var outcome = RunOnce(input, timeout);
        return outcome != null && outcome.StartsWith("hang") ? RunOnce(input, timeout) : outcome;
    }

    static string? RunOnce(byte[] input, TimeSpan timeout)
    {
        Exception? error = null;
        var thread = new Thread(() => { try { DicomFuzzTarget.Run(input); } catch (Exception e) { error = e; } }, 64 << 20) { IsBackground = true };
        thread.Start();
        if (!thread.Join(timeout)) return $"hang: still running after {timeout.TotalSeconds:0.#} s";
        return error == null ? null : $"{error.GetType().Name}: {error.Message}\n{error.StackTrace}";
    }

    /// <summary>
    /// Mutates corpus entries for <paramref name="duration"/> with a fixed <paramref name="seed"/>. Findings are written to
    /// <paramref name="outDir"/> (named by SHA-1) when given. A hang stops the loop: its thread cannot be stopped.
    /// </summary>
    public static MutationStats Mutate(IReadOnlyList<byte[]> corpus, int seed, TimeSpan duration, TimeSpan timeout, string? outDir, TextWriter? log)
    {
        var rng = new Random(seed);
        var mutator = new DicomMutator(rng);
        var messages = new List<string>();
        var seen = new HashSet<string>();
        var clock = Stopwatch.StartNew();
        long execs = 0;
        var nextLog = TimeSpan.FromSeconds(30);
        while (clock.Elapsed < duration)
        {
            var input = mutator.Mutate(corpus[rng.Next(corpus.Count)], corpus);
            execs++;
            var outcome = RunWithTimeout(input, timeout);
            if (outcome != null)
            {
                var key = outcome.Split('\n')[0] + (outcome.Split('\n').Skip(1).FirstOrDefault() ?? "");
                if (seen.Add(key))
                {
                    messages.Add(outcome);
                    log?.WriteLine($"finding #{messages.Count} after {execs} execs: {outcome}");
                    if (outDir != null)
                    {
                        Directory.CreateDirectory(outDir);
                        File.WriteAllBytes(Path.Combine(outDir, Convert.ToHexStringLower(SHA1.HashData(input))), input);
                    }
                }
                if (outcome.StartsWith("hang")) break;
            }
            if (log != null && clock.Elapsed > nextLog)
            {
                log.WriteLine($"{clock.Elapsed:hh\\:mm\\:ss} execs={execs} execs/s={execs / clock.Elapsed.TotalSeconds:0.0} findings={messages.Count}");
                nextLog += TimeSpan.FromSeconds(30);
            }
        }
        return new MutationStats(execs, messages.Count, clock.Elapsed, messages);
    }
}
