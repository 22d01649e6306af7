using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Casebook.Server;

namespace Casebook.Bench;

/// <summary>
/// `feeds` suite (issue 7): DIMSE C-STORE receive rate of Casebook's SCP against dcmtk's storescp as the peer SCP, both fed
/// by storescu over loopback with the same 60-slice CT series in one association, and the time until the association's
/// batch is committed (ingested, de-identified, embedded); then HL7 ORU^R01 round trips (send → ACK after commit).
/// </summary>
public static class FeedBenchmarks
{
    public static string Run(string shared, string work, int runs = 3)
    {
        var series = Path.Combine(shared, "radiomics", "ibsi1_ct_phantom", "dicom", "image");
        var files = Directory.GetFiles(series, "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var dir = Path.Combine(work, "feeds");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        var load0 = File.ReadAllText("/proc/loadavg").Split(' ')[0];

        // Peer: dcmtk's storescp writing every instance to a folder (no fsync).
        var peerTimes = new List<double>();
        var peerPort = FreePort();
        var peerOut = Directory.CreateDirectory(Path.Combine(dir, "storescp")).FullName;
        using (var storescp = Process.Start(new ProcessStartInfo("storescp", ["-aet", "PEER", "-dhl", "-od", peerOut, peerPort.ToString()]) { RedirectStandardError = true, RedirectStandardOutput = true })!)
        {
            Thread.Sleep(500);
            for (var i = 0; i < runs; i++) peerTimes.Add(Send("PEER", peerPort, files));
            storescp.Kill(entireProcessTree: true);
        }

        // Casebook: one fresh database; each run sends the same series (the later runs hit unchanged studies at ingest).
        var db = Path.Combine(dir, "db");
        CasebookDb.Open(db, new CasebookOptions { KeyFile = Path.Combine(dir, "patient.key") }).Dispose();
        var server = CasebookServer.Create(new ServerOptions { DbDirectory = db, KeyFile = Path.Combine(dir, "patient.key"), Port = 0, DimsePort = 0, MllpPort = 0 });
        server.StartAsync().GetAwaiter().GetResult();
        var spool = Path.Combine(db, "server", "dimse-spool");
        var receive = new List<double>();
        var committed = new List<double>();
        var hl7 = new List<double>();
        try
        {
            for (var i = 0; i < runs; i++)
            {
                var sw = Stopwatch.StartNew();
                receive.Add(Send("CASEBOOK", server.DimsePort!.Value, files));
                Thread.Sleep(50);
                while (Directory.GetDirectories(spool).Length > 0) Thread.Sleep(20);
                committed.Add(sw.Elapsed.TotalSeconds);
            }
            using var tcp = new TcpClient("127.0.0.1", server.MllpPort!.Value);
            var s = tcp.GetStream();
            for (var i = 0; i < 20; i++)
            {
                var msg = $"MSH|^~\\&|RIS|HOSP|CB|RES|20240115||ORU^R01|B{i}|P|2.5\rPID|1||BENCH-{i % 5}\rOBR|1||BENCH-ACC-{i}\rOBX|1|TX|X||Chest radiograph {i}: no focal consolidation, no pleural effusion, heart size normal.\r";
                var sw = Stopwatch.StartNew();
                s.Write([0x0B, .. Encoding.UTF8.GetBytes(msg), 0x1C, 0x0D]);
                var buffer = new byte[4096];
                var got = new List<byte>();
                while (!got.Contains(0x1C)) { var read = s.Read(buffer); if (read == 0) throw new IOException("MLLP closed"); got.AddRange(buffer.AsSpan(0, read).ToArray()); }
                if (!Encoding.UTF8.GetString(got.ToArray()).Contains("MSA|AA")) throw new InvalidOperationException("ORU not accepted: " + Encoding.UTF8.GetString(got.ToArray()));
                hl7.Add(sw.Elapsed.TotalMilliseconds);
            }
        }
        finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        var load1 = File.ReadAllText("/proc/loadavg").Split(' ')[0];

        static double Median(List<double> xs) { var o = xs.Order().ToList(); return o.Count % 2 == 1 ? o[o.Count / 2] : (o[o.Count / 2 - 1] + o[o.Count / 2]) / 2; }
        var n = files.Length;
        var sb = new StringBuilder();
        sb.AppendLine("## Hospital feeds: C-STORE and HL7 ORU (`feeds` suite; issue 7)\n");
        sb.AppendLine($"storescu sends the IBSI CT phantom series ({n} instances, {files.Sum(f => new FileInfo(f).Length) / 1024} KiB, Explicit VR LE) in one association over loopback;");
        sb.AppendLine($"median of {runs} runs. \"received\" = storescu's wall time until it exits (every C-STORE-RSP back; Casebook answers each only");
        sb.AppendLine("after the instance is fsynced in its spool). \"committed\" = until the association's batch is ingested (de-identified, 16 slices");
        sb.AppendLine("rendered and embedded, one version; later runs find the study unchanged). The peer SCP is dcmtk's storescp writing files (no fsync, host lookup off).");
        sb.AppendLine($"Load average {load0} before, {load1} after ({Environment.ProcessorCount} cores shared with other work).\n");
        sb.AppendLine("| receiver | received s | instances/s | ratio to storescp | committed s (first run / median) |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| dcmtk storescp | {Median(peerTimes):0.000} | {n / Median(peerTimes):0} | 1.00 | – |"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| Casebook SCP | {Median(receive):0.000} | {n / Median(receive):0} | {Median(receive) / Median(peerTimes):0.00} | {committed[0]:0.00} / {Median(committed):0.00} |"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"\nHL7 ORU^R01 over MLLP, 20 messages in sequence on one connection, each a new report-only study (text pipeline, embedding, one commit) before its ACK: median {Median(hl7):0} ms, max {hl7.Max():0} ms per message.\n"));
        return sb.ToString();
    }

    static double Send(string aet, int port, string[] files)
    {
        var psi = new ProcessStartInfo("storescu", ["-aec", aet, "-R", "127.0.0.1", port.ToString(), .. files]) { RedirectStandardError = true, RedirectStandardOutput = true };
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"storescu to {aet} failed: {err}");
        return sw.Elapsed.TotalSeconds;
    }

    static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
