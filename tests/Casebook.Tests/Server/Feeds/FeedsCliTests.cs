using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Casebook.Tests.Server.Feeds;

/// <summary>`./casebook serve --dimse-port P --ae-title T --mllp-port Q`: both feeds start with the verb, answer real peers, and bad settings are refused.</summary>
public class FeedsCliTests
{
    [Fact]
    public async Task Serve_with_feed_ports_answers_echoscu_and_mllp_and_refuses_a_bad_ae_title()
    {
        using var tmp = new TempDirectory();
        CasebookDb.Open(tmp["db"], new CasebookOptions { KeyFile = tmp.KeyFile }).Dispose();
        var (badCode, _, badErr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(1), "serve", "--db", tmp["db"], "--port", "0", "--dimse-port", "0", "--ae-title", "A_TITLE_LONGER_THAN_16");
        Assert.Equal(3, badCode);
        Assert.Contains("--ae-title", badErr);

        using var p = Process.Start(CliProcess.StartInfo(tmp.Path, tmp.KeyFile, "serve", "--db", tmp["db"], "--port", "0", "--dimse-port", "0", "--ae-title", "CB_TEST", "--mllp-port", "0"))!;
        try
        {
            int? dimse = null, mllp = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (dimse == null || mllp == null)
            {
                var line = await p.StandardError.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("serve exited");
                if (Regex.Match(line, @"SCP as AE 'CB_TEST' on port (\d+)") is { Success: true } d) dimse = int.Parse(d.Groups[1].Value);
                if (Regex.Match(line, @"MLLP on port (\d+)") is { Success: true } m) mllp = int.Parse(m.Groups[1].Value);
            }
            var echo = Process.Start(new ProcessStartInfo("echoscu", ["-aec", "CB_TEST", "127.0.0.1", dimse.Value.ToString()]) { RedirectStandardError = true })!;
            Assert.True(echo.WaitForExit(60_000));
            Assert.Equal(0, echo.ExitCode);

            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", mllp.Value);
            var s = tcp.GetStream();
            await s.WriteAsync((byte[])[0x0B, .. Encoding.ASCII.GetBytes("MSH|^~\\&|PAS|HOSP|CB|R|20240101||ADT^A08|CLI-1|P|2.5\rPID|1||NOBODY||||19700101|M\r"), 0x1C, 0x0D]);
            var buffer = new byte[2048];
            var got = new StringBuilder();
            while (!got.ToString().Contains('\x1c')) got.Append(Encoding.UTF8.GetString(buffer, 0, await s.ReadAsync(buffer, timeout.Token)));
            Assert.Contains("MSA|AA|CLI-1", got.ToString());
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }
}
