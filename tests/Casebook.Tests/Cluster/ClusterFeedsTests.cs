using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Extract.Dicom;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Server;
using Casebook.Server.Feeds.Dimse;
using Casebook.Server.Feeds.Hl7;
using Microsoft.Extensions.DependencyInjection;

namespace Casebook.Tests.Cluster;

/// <summary>
/// The hospital feeds on `serve --cluster` (docs/feeds.md): the same real DICOM files (dcmtk's storescu, one association per
/// file) and the same HL7 messages go to a single-node server over the one-node database and to a cluster server beside it;
/// the studies they make or change must be the same records, found by the same searches. A spool folder a crash left behind
/// is ingested into the cluster at start. Patient updates and merges are refused on a cluster with AR, never a silent AA.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterFeedsTests(LocalClusterFixture f)
{
    const string Ae = "CASEBOOK";

    static (int Code, string Output) Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} could not start (dcmtk is installed by scripts/setup-system.sh)");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(true); throw new TimeoutException($"{tool} hung"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    static async Task WaitForSpool(CasebookServer s)
    {
        var spool = s.App.Services.GetRequiredService<DicomSpool>();
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        await Task.Delay(300); // an association is queued when its connection ends, a moment after storescu exits
        while (spool.Pending > 0 || Directory.GetDirectories(spool.Root).Length > 0)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("the DIMSE spool was not ingested");
            await Task.Delay(200);
        }
    }

    static async Task<(string Code, string Text, string Err)> Mllp(int port, params string[] segments)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var s = tcp.GetStream();
        await s.WriteAsync((byte[])[0x0B, .. Encoding.UTF8.GetBytes(string.Join("\r", segments) + "\r"), 0x1C, 0x0D]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var got = new List<byte>();
        var buffer = new byte[4096];
        while (!got.Contains(0x1C))
        {
            var n = await s.ReadAsync(buffer, timeout.Token);
            if (n == 0) throw new EndOfStreamException("the listener closed the connection");
            got.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        var ack = Hl7Message.Parse(got.Skip(got.IndexOf(0x0B) + 1).TakeWhile(b => b != 0x1C).ToArray());
        var msa = ack.First("MSA")!;
        return (msa.Get(1), msa.Get(3), ack.First("ERR") is { } err ? err.Get(8) + " " + err.Get(3) : "");
    }

    static string Msh(string type, string control) => $"MSH|^~\\&|RIS|GENERAL HOSPITAL|CASEBOOK|RESEARCH|20240115103000||{type}|{control}|P|2.5.1";

    string StudyIdOf(string file)
    {
        using var d = DicomFile.Open(file, DicomReadOptions.HeaderOnly);
        return DicomUidMap.Remap(PatientPseudonym.Load(f.Dir.KeyFile), d.Dataset.GetString(new DicomTag(0x0020000D))!.Trim());
    }

    [Fact]
    public async Task Dimse_and_mllp_on_serve_cluster_make_the_single_node_studies()
    {
        // Two instances of one US study, merged over two associations (not the NM study ClusterDicomWebTests stores and purges).
        var j2k = SharedData.Require("dicom/pydicom/examples_jpeg2k.dcm");
        var rgb = SharedData.Require("dicom/pydicom/examples_rgb_color.dcm");
        var liver = SharedData.Require("dicom/pydicom/liver_1frame.dcm"); // accession 03086212, patient 99000: left in the spool by a "crash"
        var serverDir = f.Dir["feeds-server-state"];
        CasebookDb.Open(serverDir).Dispose();
        // A crash left an association's folder in each server's spool: an acknowledged instance and a half-written one.
        foreach (var dir in new[] { f.SingleDb, serverDir })
        {
            var crashed = Path.Combine(dir, "server", "dimse-spool", "20240101000000000-crashed");
            Directory.CreateDirectory(crashed);
            File.Copy(liver, Path.Combine(crashed, "000001.dcm"));
            await File.WriteAllBytesAsync(Path.Combine(crashed, "000002.part"), [1, 2, 3]);
        }
        ServerOptions Options(string dir, string? cluster) => new()
        {
            DbDirectory = dir, ClusterFile = cluster, KeyFile = f.Dir.KeyFile, Port = 0, DimsePort = 0, MllpPort = 0, AeTitle = Ae,
            ArtimTimeout = TimeSpan.FromSeconds(5), FeedIdleTimeout = TimeSpan.FromSeconds(30),
        };
        await using var one = CasebookServer.Create(Options(f.SingleDb, null));
        await using var cl = CasebookServer.Create(Options(serverDir, f.ClusterFile));
        await one.StartAsync();
        await cl.StartAsync();
        var servers = new[] { one, cl };
        foreach (var s in servers) await WaitForSpool(s);

        // Two associations per server, one file each.
        foreach (var (file, propose) in new[] { (j2k, "-xv"), (rgb, "-xe") })
            foreach (var s in servers)
            {
                var r = Run("storescu", "-aet", "US_CART", "-aec", Ae, propose, "-R", "127.0.0.1", s.DimsePort!.Value.ToString(), file);
                Assert.True(r.Code == 0 && !r.Output.Contains("Failed"), r.Output);
                await WaitForSpool(s);
            }

        // ORU^R01: one report attaches by accession to the DICOM study the crashed spool held, one makes a report-only study.
        string[] attach = [Msh("ORU^R01", "CF-1"), "PID|1||99000", "OBR|1||03086212", "OBX|1|TX|GDT||FINDINGS: hepatic steatosis without focal lesion. Feedsclusterterm."];
        string[] reportOnly = [Msh("ORU^R01", "CF-2"), "PID|1||13US1", "OBR|1|PLC-9|FEED-ACC-9|||||||||||||||||||||US|F", "OBX|1|TX|GDT||FINDINGS: uniform tracer uptake, no focal defect. Feedsclusterterm."];
        var acks = new List<(string Code, string Text, string Err)>();
        foreach (var message in new[] { attach, reportOnly, attach })
            foreach (var s in servers) acks.Add(await Mllp(s.MllpPort!.Value, message));
        foreach (var a in acks) Assert.True(a.Code == "AA", $"{a.Text} {a.Err}");
        Assert.StartsWith("added to study", acks[0].Text);
        Assert.StartsWith("added to study", acks[1].Text);
        Assert.StartsWith("made report-only study rpt-", acks[3].Text);
        Assert.Equal(acks[2].Text.Split(' ')[^3], acks[3].Text.Split(' ')[^3]); // the same report-only study id
        Assert.Contains("already has this report", acks[5].Text); // a resend changes nothing on the cluster either

        // Patient updates and merges: AR with an ERR that says why, on the cluster only.
        var a08 = await Mllp(cl.MllpPort!.Value, Msh("ADT^A08", "CF-3"), "PID|1||99000||||19600101|F");
        Assert.Equal("AR", a08.Code);
        Assert.Contains("not available on a cluster", a08.Err);
        var a40 = await Mllp(cl.MllpPort!.Value, Msh("ADT^A40", "CF-4"), "PID|1||99000", "MRG|13US1");
        Assert.Equal("AR", a40.Code);
        Assert.Contains("not available on a cluster", a40.Err);

        // The same records (vectors and all) on both, and the same searches.
        var reportStudy = acks[3].Text.Split(' ')[^3];
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        foreach (var id in new[] { StudyIdOf(j2k), StudyIdOf(liver), reportStudy })
        {
            var single = one.Db.GetStudy(id);
            Assert.True(single != null, id);
            var clustered = await client.GetStudyAsync(id);
            Assert.True(clustered != null, $"{id} is not on the cluster");
            Assert.Equal(JsonSerializer.Serialize(single, ClusterLog.RecordJson), JsonSerializer.Serialize(clustered, ClusterLog.RecordJson));
        }
        var merged = one.Db.GetStudy(StudyIdOf(j2k))!;
        Assert.Equal(2, merged.Metadata["dicom"]!["instance_count"]!.GetValue<int>());
        Assert.Contains("hepatic steatosis", one.Db.GetStudy(StudyIdOf(liver))!.ReportText);
        Assert.Empty(Directory.GetDirectories(Path.Combine(serverDir, "server", "dimse-spool")));
        foreach (var q in new[] { "feedsclusterterm", "hepatic steatosis" })
        {
            var a = JsonNode.Parse(f.Cli("search", q, "--mode", "bm25", "--json", "--db", f.SingleDb))!["results"]!;
            var b = JsonNode.Parse(f.Cli("search", q, "--mode", "bm25", "--json", "--cluster", f.ClusterFile))!["results"]!;
            Assert.Equal(a.ToJsonString(), b.ToJsonString());
            Assert.NotEmpty(b.AsArray());
        }
        Assert.Equal(f.Cli("timeline", StudyIdOf(liver), "--json", "--db", f.SingleDb), f.Cli("timeline", StudyIdOf(liver), "--json", "--cluster", f.ClusterFile));
    }
    [Fact]
    public async Task Serve_cluster_with_feed_ports_starts_from_the_cli_and_answers_echoscu_and_mllp()
    {
        // The verb the issue names; it changes nothing (the cluster and the one-node database must stay equal for the others).
        var serverDir = f.Dir["feeds-cli-server-state"];
        using var p = Process.Start(CliProcess.StartInfo(f.Dir.Path, f.Dir.KeyFile, "serve", "--cluster", f.ClusterFile, "--db", serverDir,
            "--port", "0", "--dimse-port", "0", "--ae-title", "CB_CLUSTER", "--mllp-port", "0"))!;
        try
        {
            int? dimse = null, mllp = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (dimse == null || mllp == null)
            {
                var line = await p.StandardError.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("serve exited");
                if (System.Text.RegularExpressions.Regex.Match(line, @"SCP as AE 'CB_CLUSTER' on port (\d+)") is { Success: true } d) dimse = int.Parse(d.Groups[1].Value);
                if (System.Text.RegularExpressions.Regex.Match(line, @"MLLP on port (\d+)") is { Success: true } m) mllp = int.Parse(m.Groups[1].Value);
            }
            var echo = Run("echoscu", "-aec", "CB_CLUSTER", "127.0.0.1", dimse.Value.ToString());
            Assert.True(echo.Code == 0, echo.Output);
            var a08 = await Mllp(mllp.Value, Msh("ADT^A08", "CF-CLI"), "PID|1||NOBODY||||19700101|M");
            Assert.Equal("AR", a08.Code);
            Assert.Contains("not available on a cluster", a08.Err);
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }
}
