using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Casebook.Cluster;
using Casebook.Cluster.Workers;

namespace Casebook.Bench;

/// <summary>
/// `cluster-workers` suite (docs/cluster.md, "Workers"): ingest throughput of one corpus (typed reports plus espeak-ng
/// dictations, so ASR and embedding jobs) through a real local cluster with 1, 2 and 4 worker processes, and on one
/// node in-process as the peer in the same run; medians over runs, plus each configuration's summed worker busy time
/// (from the workers' start/done log lines) for projecting machines that have their own cores.
/// </summary>
public static class ClusterWorkerBenchmarks
{
    static readonly string[] Findings =
    [
        "a small right pleural effusion with adjacent atelectasis", "a simple cyst in the lower pole of the left kidney",
        "a spiculated nodule in the right upper lobe", "mild cardiomegaly with pulmonary vascular congestion",
        "a disc herniation at L four L five", "no acute fracture or dislocation", "moderate hepatomegaly without focal lesion",
        "diffuse bronchial wall thickening", "a small hiatal hernia", "calcified granuloma in the left lower lobe",
    ];

    public static string Run(string work, int runs = 3, int dictations = 6, int reports = 60)
    {
        var root = Path.Combine(work, "cluster-workers-bench");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        var key = Path.Combine(root, "patient.key");
        var warm = WriteCorpus(Path.Combine(root, "warm"), 99, 1, 2);
        var corpora = Enumerable.Range(0, runs).Select(r => WriteCorpus(Path.Combine(root, $"corpus-{r}"), r, dictations, reports)).ToList();
        var studies = dictations + reports;
        var load0 = Load();
        var cli = ("dotnet", new[] { "exec", Path.Combine(AppContext.BaseDirectory, "Casebook.Cli.dll") });

        // One node: the same pipeline with the engines in this process (warmed once, a fresh database per run). It runs
        // right after each cluster run on the same corpus, so each configuration has a peer measured under the same load.
        using (var db = CasebookDb.Open(Path.Combine(root, "single-warm"), new CasebookOptions { KeyFile = key })) db.Ingest([warm]);
        var singleRuns = 0;
        double OneNode(string corpus)
        {
            using var db = CasebookDb.Open(Path.Combine(root, $"single-{singleRuns++}"), new CasebookOptions { KeyFile = key });
            var t = Stopwatch.StartNew();
            var result = db.Ingest([corpus]);
            if (result.Errors.Count > 0) throw new InvalidOperationException($"one-node ingest: {result.Errors[0].File}: {result.Errors[0].Reason}");
            return t.Elapsed.TotalSeconds;
        }

        var rows = new List<string>();
        double? busy1 = null, client1 = null;
        foreach (var k in new[] { 1, 2, 4 })
        {
            var dir = Path.Combine(root, $"w{k}");
            var config = LocalCluster.UpAsync(dir, silos: 1, nats: 1, shards: 8, key, cli, TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
            var file = Path.Combine(dir, "cluster.json");
            try
            {
                var workers = LocalWorkers.StartAsync(config, file, k, cli, TimeSpan.FromMinutes(2)).GetAwaiter().GetResult();
                var (walls, cpus, single, jobs) = Task.Run(async () =>
                {
                    await using var client = await ClusterClient.ConnectAsync(config);
                    await client.IngestAsync([warm]); // every worker's first job loads its models: not timed
                    var offsets = workers.ToDictionary(w => w.Name, w => new FileInfo(w.Log).Length);
                    var walls = new List<double>();
                    var cpus = new List<double>();
                    var single = new List<double>();
                    foreach (var corpus in corpora)
                    {
                        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                        var t = Stopwatch.StartNew();
                        var result = await client.IngestAsync([corpus]);
                        walls.Add(t.Elapsed.TotalSeconds);
                        cpus.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds); // the coordinator's own work
                        if (result.Errors.Count > 0) throw new InvalidOperationException($"cluster ingest: {result.Errors[0].File}: {result.Errors[0].Reason}");
                        single.Add(OneNode(corpus));
                    }
                    return (walls, cpus, single, workers.SelectMany(w => JobSeconds(w.Log, offsets[w.Name])).ToList());
                }).GetAwaiter().GetResult();
                var wall = Median(walls);
                var busy = jobs.Sum(j => j.Seconds) / corpora.Count;
                string PerJob(string kind) => jobs.Where(j => j.Kind == kind).Select(j => j.Seconds).ToList() is { Count: > 0 } xs ? $"{Median(xs):0.00}" : "–";
                if (k == 1) { busy1 = busy; client1 = Median(cpus); }
                // Own cores per worker (and for the coordinator): the slower of the coordinator's own CPU work and the
                // 1-worker job time shared by k workers. A lower bound; it ignores the wait for the first dictation.
                var projected = Math.Max(client1!.Value, busy1!.Value / k);
                var oneNode = Median(single);
                rows.Add($"| {k} worker{(k > 1 ? "s" : "")} | {wall:0.0} | {studies / wall:0.00} | {oneNode:0.0} | {oneNode / wall:0.00}× | {busy:0.0} | {PerJob("asr")} / {PerJob("embed")} | {Median(cpus):0.0} | {projected:0.0} s ({studies / projected:0.00}/s) |");
            }
            finally { LocalCluster.Down(ClusterConfig.Load(file)); }
        }

        var sb = new StringBuilder();
        sb.AppendLine($"## Cluster workers (`bench cluster-workers`): {reports} typed reports + {dictations} espeak-ng dictations per run, {runs} runs; load average {load0} at start, {Load()} at end");
        sb.AppendLine();
        sb.AppendLine("| ingest through | median wall s | studies/s | one node, same corpora, interleaved: median s | speed vs one node | worker busy s per run (sum) | s per job: asr / embed (median) | coordinator CPU s | projected with own cores |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in rows) sb.AppendLine(r);
        return sb.ToString();
    }

    /// <summary>Each job's kind and seconds between its start and done lines in a worker log (after <paramref name="offset"/> bytes).</summary>
    static List<(string Kind, double Seconds)> JobSeconds(string log, long offset)
    {
        using var fs = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        fs.Seek(offset, SeekOrigin.Begin);
        var text = new StreamReader(fs).ReadToEnd();
        var starts = new Dictionary<string, TimeSpan>();
        var jobs = new List<(string, double)>();
        foreach (Match m in Regex.Matches(text, @"^(\d\d:\d\d:\d\d\.\d+) (start|done) (\w+) ([0-9a-f]{64})", RegexOptions.Multiline))
        {
            var at = TimeSpan.ParseExact(m.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
            if (m.Groups[2].Value == "start") starts[m.Groups[4].Value] = at;
            else if (starts.Remove(m.Groups[4].Value, out var s)) jobs.Add((m.Groups[3].Value, (at - s + TimeSpan.FromDays(1)).TotalSeconds % 86400));
        }
        return jobs;
    }

    static string WriteCorpus(string dir, int run, int dictations, int reports)
    {
        Directory.CreateDirectory(Path.Combine(dir, "reports"));
        var rng = new Random(run * 31 + 5);
        string Sentence() => $"There is {Findings[rng.Next(Findings.Length)]}, and {Findings[rng.Next(Findings.Length)]}.";
        var rows = new List<string> { "study_id,patient_id,modality,exam_date,report,images,dictation" };
        for (var i = 0; i < reports + dictations; i++)
        {
            var id = $"WB-{run}-{i:000}";
            var text = $"FINDINGS:\n{Sentence()} {Sentence()}\n\nIMPRESSION:\n{Sentence()}\n";
            File.WriteAllText(Path.Combine(dir, "reports", $"{id}.txt"), text);
            var dictation = "";
            if (i < dictations)
            {
                // About 15 s of speech per dictation: PocketSphinx work a worker can take.
                dictation = $"reports/{id}.wav";
                var r = Casebook.Extract.ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "150", "-w", Path.Combine(dir, dictation),
                    $"Radiology dictation for study {i}. {Sentence()} {Sentence()} {Sentence()} Impression. {Sentence()}"], TimeSpan.FromMinutes(1));
                if (r.ExitCode != 0) throw new InvalidOperationException($"espeak-ng failed: {r.Stderr}");
            }
            rows.Add($"{id},PB-{run}-{i % 37},CT,2024-05-{1 + i % 28:00},reports/{id}.txt,,{dictation}");
        }
        File.WriteAllLines(Path.Combine(dir, "studies.csv"), rows);
        return dir;
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
