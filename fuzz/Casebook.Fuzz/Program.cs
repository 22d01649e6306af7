using System.Diagnostics;
using Casebook.Fuzz;

// Casebook.Fuzz — fuzzing the DICOM reader and pixel decoders (see fuzz/README.md).
//   afl                              persistent-mode target for afl-fuzz (Casebook.dll instrumented by `sharpfuzz`)
//   replay PATH...                   run files (or folders) once each; exit 1 on a finding
//   mutate [--seconds N] [--seed S] [--out DIR] PATH...   in-process mutation campaign, no coverage feedback
var mode = args.Length > 0 ? args[0] : "afl";
switch (mode)
{
    case "afl":
        SharpFuzz.Fuzzer.Run(stream =>
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            DicomFuzzTarget.Run(ms.ToArray());
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
        return stats.Findings == 0 ? 0 : 1;
    }
    default:
        Console.Error.WriteLine("usage: Casebook.Fuzz [afl | replay PATH... | mutate [--seconds N] [--seed S] [--out DIR] PATH...]");
        return 2;
}

static IEnumerable<string> Inputs(IEnumerable<string> paths) =>
    paths.SelectMany<string, string>(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order() : new[] { p })
         .Where(p => !Path.GetFileName(p).StartsWith('.') && !p.EndsWith(".md"));
