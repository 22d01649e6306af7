using System.Diagnostics;
using Casebook.Fuzz;

// Casebook.Fuzz — fuzzing the DICOM reader and pixel decoders (see fuzz/README.md).
//   afl                              persistent-mode target for afl-fuzz (Casebook.dll instrumented by `sharpfuzz`)
//   replay PATH...                   run files (or folders) once each; exit 1 on a finding
//   diag PATH                        time each stage (open, dump, decode, render…) for one input
//   mutate [--seconds N] [--seed S] [--out DIR] PATH...   in-process mutation campaign, no coverage feedback
var mode = args.Length > 0 ? args[0] : "afl";
switch (mode)
{
    case "afl":
        // The target runs on a worker thread with a 2 s watchdog: in SharpFuzz's persistent mode the dotnet process is
        // also AFL's fork server, so an AFL timeout kills it ("Unable to communicate with fork server") and the campaign
        // stops. A slow input is instead reported as a crash (TimeoutException); its thread is left to finish.
        SharpFuzz.Fuzzer.Run(stream =>
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            var outcome = FuzzRunner.RunWithTimeout(ms.ToArray(), TimeSpan.FromSeconds(2));
            if (outcome != null)
            {
                if (outcome.StartsWith("hang") && ++stuck > 8) Environment.Exit(3); // too many runaway threads: let run-afl.sh restart
                throw new FuzzFindingException(outcome);
            }
        });
        return 0;
    case "replay":
    {
        var failed = 0;
        foreach (var path in Inputs(args.Skip(1)))
        {
            var outcome = FuzzRunner.RunWithTimeout(File.ReadAllBytes(path), TimeSpan.FromSeconds(2));
            Console.WriteLine($"{(outcome == null ? "ok  " : "FAIL")} {path}{(outcome == null ? "" : ": " + outcome)}");
            if (outcome != null) failed++;
        }
        return failed == 0 ? 0 : 1;
    }
    case "mutate":
    {
        var seconds = 60.0; var seed = Environment.TickCount; string? outDir = null; var paths = new List<string>();
        for (var i = 1; i < args.Length; i++)
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(args[++i]); break;
                case "--seed": seed = int.Parse(args[++i]); break;
                case "--out": outDir = args[++i]; break;
                default: paths.Add(args[i]); break;
            }
        var corpus = Inputs(paths).Select(File.ReadAllBytes).ToList();
        var stats = FuzzRunner.Mutate(corpus, seed, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(2), outDir, Console.Out);
        Console.WriteLine($"done: {stats.Execs} execs in {stats.Elapsed.TotalSeconds:0} s ({stats.Execs / stats.Elapsed.TotalSeconds:0.0}/s), {stats.Findings} findings");
        return stats.Findings == 0 ? 0 : 1;
    }
    case "diag":
        // Times each stage of the target separately for one input, to see where a finding comes from.
        DicomFuzzTarget.Diagnose(File.ReadAllBytes(args[1]), Console.Out);
        return 0;
    default:
        Console.Error.WriteLine("usage: Casebook.Fuzz [afl | replay PATH... | mutate [--seconds N] [--seed S] [--out DIR] PATH...]");
        return 2;
}

static IEnumerable<string> Inputs(IEnumerable<string> paths) =>
    paths.SelectMany<string, string>(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order() : new[] { p })
         .Where(p => !Path.GetFileName(p).StartsWith('.') && !p.EndsWith(".md"));

partial class Program { static int stuck; }
