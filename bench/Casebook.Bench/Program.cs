using System.Diagnostics;
using Casebook.Bench;

// Casebook's benchmark runner: `dotnet run -c Release --project bench/Casebook.Bench -- <suite>... [--shared DIR] [--work DIR]`.
// Suites print markdown sections (method + results) to stdout; docs/benchmarks.md is assembled from them.
var suites = args.Where((a, i) => !a.StartsWith("--") && (i == 0 || !args[i - 1].StartsWith("--") || args[i - 1] == "--no-1m")).ToList();
string Opt(string name, string fallback) { var i = Array.IndexOf(args, "--" + name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
var shared = Opt("shared", Path.Combine(Program.RepoRoot, "..", "shared", "data"));
var work = Directory.CreateDirectory(Opt("work", Path.Combine(Path.GetTempPath(), "casebook-bench"))).FullName;
if (!Directory.Exists(shared)) { Console.Error.WriteLine($"bench: shared data not found at {shared} (pass --shared DIR)"); return 2; }
if (suites.Count == 0 || suites.Contains("all")) suites = ["embedding", "vectors", "ir", "images"];
Console.Out.WriteLine($"<!-- machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC -->");
foreach (var suite in suites)
{
    var sw = Stopwatch.StartNew();
    Console.Error.WriteLine($"bench: running {suite}…");
    var section = suite switch
    {
        "ir" => IrBenchmarks.Run(shared, work),
        "embedding" => EmbeddingBenchmarks.RunThroughput(shared),
        "vectors" => VectorBenchmarks.Run(shared, work, include1M: !args.Contains("--no-1m")),
        "images" => EmbeddingBenchmarks.RunImageRetrieval(shared),
        "dicom-header" => DicomHeaderBenchmarks.Run(shared),
        "dicom-pixels" => DicomPixelBenchmarks.Run(shared),
        "dicom-ingest" => DicomIngestBenchmarks.Run(shared, work),
        "documents" => DocumentBenchmarks.Run(shared, work),
        "asr-sweep" => DocumentBenchmarks.AsrSweep(shared, work, Environment.GetEnvironmentVariable("ASR_ONLY")),
        "nlp" => NlpBenchmarks.Run(shared),
        "nlp-ir" => NlpBenchmarks.RunIuXray(shared, work),
        "phi" => PhiBenchmarks.Run(shared, work),
        "server" => args.Contains("--stow") ? StowBenchmarks.Run(shared, work) // DICOMweb STOW-RS rate alone
            : ServerBenchmarks.Run(work, Opt("seconds", "") is { Length: > 0 } sec ? TimeSpan.FromSeconds(double.Parse(sec)) : null) + "\n" + StowBenchmarks.Run(shared, work),
        "page" => ServerBenchmarks.RunPage(work),
        "fhir" => FhirBenchmarks.Run(shared, work),
        "similar" => SimilarBenchmarks.Run(shared, work),
        "findings" => FindingsBenchmarks.Run(shared, work),
        "cohort" => CohortBenchmarks.Run(work),
        "texture" => TextureBenchmarks.Run(shared),
        "feeds" => FeedBenchmarks.Run(shared, work),
        "cluster" => ClusterBenchmarks.Run(work),
        "cluster-recovery" => ClusterRecoveryBenchmarks.Run(work),
        "cluster-tls" => ClusterTlsBenchmarks.Run(work),
        "cluster-workers" => ClusterWorkerBenchmarks.Run(work), // ingest with 1, 2, 4 workers (docs/cluster.md)
        _ => throw new ArgumentException($"unknown suite '{suite}' (ir, embedding, vectors, images, dicom-header, dicom-pixels, dicom-ingest, documents, asr-sweep, nlp, nlp-ir, phi, server, page, fhir, similar, findings, cohort, texture, feeds, cluster, cluster-recovery, cluster-tls, cluster-workers, all)"),
    };
    Console.Out.WriteLine(section);
    Console.Error.WriteLine($"bench: {suite} took {sw.Elapsed.TotalSeconds:0} s");
}
return 0;

public partial class Program
{
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Casebook.sln"))) return dir.FullName;
            return Environment.CurrentDirectory;
        }
    }

    public static void EnsureNodeModules(string peerDir)
    {
        if (!Directory.Exists(Path.Combine(peerDir, "node_modules"))) RunProcess("npm", peerDir, "install", "--no-audit", "--no-fund");
    }

    public static string RunProcess(string file, string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Result}");
        return output;
    }
}
