using System.Net.Sockets;
using System.Text;
using Casebook.Ingest;
using Casebook.Server.Feeds.Hl7;

namespace Casebook.Tests.Server.Feeds;

/// <summary>HL7 v2 over MLLP from a plain .NET TcpClient: ORU^R01 reports, ADT^A08 updates, ADT^A40 merges, and bad input.</summary>
[Collection("feeds")]
public class Hl7FeedTests(FeedsServer feeds)
{
    sealed class MllpClient : IDisposable
    {
        readonly TcpClient _tcp = new();
        NetworkStream _s = null!;
        readonly List<byte> _pending = new();

        public static async Task<MllpClient> Connect(int port)
        {
            var c = new MllpClient();
            await c._tcp.ConnectAsync("127.0.0.1", port);
            c._s = c._tcp.GetStream();
            return c;
        }

        public Task SendRaw(byte[] bytes) => _s.WriteAsync(bytes).AsTask();

        /// <summary>Sends one framed message (segments joined with CR) and reads the framed ACK.</summary>
        public async Task<Hl7Message> Send(params string[] segments)
        {
            await SendRaw([0x0B, .. Encoding.UTF8.GetBytes(string.Join("\r", segments) + "\r"), 0x1C, 0x0D]);
            return await ReadAck();
        }

        public async Task<Hl7Message> ReadAck()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var buffer = new byte[4096];
            while (true)
            {
                var start = _pending.IndexOf(0x0B);
                var end = _pending.IndexOf(0x1C);
                if (start >= 0 && end > start)
                {
                    var ack = _pending.GetRange(start + 1, end - start - 1).ToArray();
                    _pending.RemoveRange(0, Math.Min(_pending.Count, end + 2));
                    return Hl7Message.Parse(ack);
                }
                var n = await _s.ReadAsync(buffer, timeout.Token);
                if (n == 0) throw new EndOfStreamException("the listener closed the connection");
                _pending.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }

        public void Dispose() => _tcp.Dispose();
    }

    static string Msh(string type, string controlId, string time = "20240115103000") => $"MSH|^~\\&|RIS|GENERAL HOSPITAL|CASEBOOK|RESEARCH|{time}||{type}|{controlId}|P|2.5.1";

    static (string Code, string Control, string Text) Msa(Hl7Message ack)
    {
        Assert.Equal("ACK", ack.MessageType);
        var msa = ack.First("MSA")!;
        return (msa.Get(1), msa.Get(2), msa.Get(3));
    }

    string Pseudo(string id) => PatientPseudonym.Load(feeds.Temp.KeyFile).Pseudonymise(StudyManifest.DefaultIssuer, id);

    [Fact]
    public async Task A_report_a_patient_update_and_a_merge_arrive_as_messages_and_are_acknowledged_once_committed()
    {
        using var c = await MllpClient.Connect(feeds.MllpPort);

        // ORU^R01: two OBX text lines (one with an escaped separator) become one report of a report-only study.
        var oru = await c.Send(
            Msh("ORU^R01^ORU_R01", "ORU-1001"),
            "PID|1||HL7-P1^^^^MR||DOE^JANE||19500612|F",
            "OBR|1|PLC-77|ACC-HL7-1|71020^CHEST XRAY^CPT4|||20240115|||||||||||||||||CR|F",
            "OBX|1|TX|&GDT^Report text||FINDINGS: Dense consolidation in the right lower lobe \\T\\ small effusion.||||||F",
            "OBX|2|FT|&IMP^Impression||IMPRESSION:\\.br\\Right lower lobe pneumonia.||||||F",
            "OBX|3|NM|8867-4^Heart rate||72|/min|||||F");
        var (code, control, text) = Msa(oru);
        Assert.True(code == "AA", text);
        Assert.Equal("ORU-1001", control);
        var hit = feeds.Db.Search("consolidation right lower lobe pneumonia").Limit(5).Execute().Results;
        Assert.NotEmpty(hit);
        var study = feeds.Db.GetStudy(hit[0].StudyId)!;
        Assert.StartsWith(CasebookDb.ReportOnlyStudyPrefix, study.StudyId);
        Assert.DoesNotContain("ACC-HL7-1", study.StudyId);
        Assert.Contains("consolidation in the right lower lobe & small effusion", study.ReportText);
        Assert.Contains("IMPRESSION:\nRight lower lobe pneumonia.", study.ReportText);
        Assert.DoesNotContain("72", study.ReportText); // numeric results are not report text
        Assert.Equal("CR", study.Modality);
        Assert.Equal(Pseudo("HL7-P1"), study.PatientPseudoId);
        Assert.DoesNotContain("DOE", study.ReportText!);

        // The first message again is recognised.
        var resent = Msa(await c.Send(Msh("ORU^R01^ORU_R01", "ORU-1001"),
            "PID|1||HL7-P1^^^^MR||DOE^JANE||19500612|F",
            "OBR|1|PLC-77|ACC-HL7-1|71020^CHEST XRAY^CPT4|||20240115|||||||||||||||||CR|F",
            "OBX|1|TX|&GDT^Report text||FINDINGS: Dense consolidation in the right lower lobe \\T\\ small effusion.||||||F",
            "OBX|2|FT|&IMP^Impression||IMPRESSION:\\.br\\Right lower lobe pneumonia.||||||F"));
        Assert.Equal("AA", resent.Code);
        Assert.Contains("already has this report", resent.Text);

        // A second report for the same accession joins the study (a new version); the same message again changes nothing.
        Assert.Equal("AA", Msa(await c.Send(Msh("ORU^R01", "ORU-1002"), "PID|1||HL7-P1", "OBR|1||ACC-HL7-1", "OBX|1|ST|ADD||ADDENDUM: no pneumothorax.")).Code);
        Assert.Contains("ADDENDUM: no pneumothorax.", feeds.Db.GetStudy(study.StudyId)!.ReportText);
        var again = Msa(await c.Send(Msh("ORU^R01", "ORU-1002"), "PID|1||HL7-P1", "OBR|1||ACC-HL7-1", "OBX|1|ST|ADD||ADDENDUM: no pneumothorax."));
        Assert.Equal("AA", again.Code);
        Assert.Contains("already has this report", again.Text);

        // ADT^A08: sex and birth date become the de-identified sex and age band (73 at the message date: 70-74), as a new version.
        var before = feeds.Db.History(study.StudyId).Count;
        var a08 = Msa(await c.Send(Msh("ADT^A08^ADT_A01", "ADT-2001", "20240115"), "EVN|A08|20240115", "PID|1||HL7-P1||DOE^JANE||19500612|F"));
        Assert.True(a08.Code == "AA", a08.Text);
        study = feeds.Db.GetStudy(study.StudyId)!;
        Assert.Equal("F", study.Metadata["sex"]!.GetValue<string>());
        Assert.Equal("70-74", study.Metadata["age_band"]!.GetValue<string>());
        Assert.DoesNotContain("1950", study.Metadata.ToJsonString());
        Assert.Equal(before + 1, feeds.Db.History(study.StudyId).Count);

        // ADT^A40: HL7-P1 merges into HL7-P2; the study moves, history keeps where it was.
        var a40 = Msa(await c.Send(Msh("ADT^A40^ADT_A39", "ADT-2002"), "EVN|A40|20240116", "PID|1||HL7-P2^^^^MR||DOE^JANE", "MRG|HL7-P1^^^^MR"));
        Assert.True(a40.Code == "AA", a40.Text);
        var merged = feeds.Db.GetStudy(study.StudyId)!;
        Assert.Equal(Pseudo("HL7-P2"), merged.PatientPseudoId);
        Assert.Contains(Pseudo("HL7-P1"), merged.Metadata["merged_from"]!.ToJsonString());
        var history = feeds.Db.History(study.StudyId);
        Assert.Equal(Pseudo("HL7-P1"), feeds.Db.GetStudy(study.StudyId, history[^2].Version)!.PatientPseudoId);
        Assert.Equal("hl7:RIS@GENERAL HOSPITAL", history[^1].Author);

        await feeds.WaitForAuditAsync(e => e.Action == "hl7.oru" && e.Actor == "hl7:RIS@GENERAL HOSPITAL" && e.Outcome == "success" && e.Target.Contains("ORU-1001"));
        await feeds.WaitForAuditAsync(e => e.Action == "hl7.adt.a40" && e.Outcome == "success" && e.Detail!.StartsWith("moved 1 studies"));
    }

    [Fact]
    public async Task Malformed_messages_get_AR_or_AE_with_a_reason_and_the_listener_survives_garbage()
    {
        using var c = await MllpClient.Connect(feeds.MllpPort);
        // Bytes outside any frame are skipped.
        await c.SendRaw(Encoding.ASCII.GetBytes("\x00\x01 not hl7 at all \r\n"));
        var notHl7 = Msa(await c.Send("HELLO WORLD"));
        Assert.Equal("AR", notHl7.Code);
        Assert.Contains("MSH", notHl7.Text);

        var noPid = await c.Send(Msh("ORU^R01", "BAD-1"), "OBR|1||ACC-X", "OBX|1|TX|X||text");
        Assert.Equal(("AE", "BAD-1"), (Msa(noPid).Code, Msa(noPid).Control));
        Assert.Contains("PID", Msa(noPid).Text);
        Assert.Equal("100", noPid.First("ERR")!.Get(3, 1)); // HL7 table 0357: segment sequence error

        var noText = Msa(await c.Send(Msh("ORU^R01", "BAD-2"), "PID|1||P-9", "OBR|1||ACC-Y", "OBX|1|NM|HR||72"));
        Assert.Equal("AE", noText.Code);
        Assert.Contains("no report text", noText.Text);

        var noAccession = Msa(await c.Send(Msh("ORU^R01", "BAD-3"), "PID|1||P-9", "OBR|1", "OBX|1|TX|X||Some text."));
        Assert.Equal("AE", noAccession.Code);
        Assert.Contains("accession", noAccession.Text);

        var unsupported = await c.Send(Msh("ADT^A01", "BAD-4"), "PID|1||P-9");
        Assert.Equal("AR", Msa(unsupported).Code);
        Assert.Equal("201", unsupported.First("ERR")!.Get(3, 1));

        var badDate = Msa(await c.Send(Msh("ADT^A08", "BAD-5"), "PID|1||P-9||X^Y||notadate|F"));
        Assert.Equal("AE", badDate.Code);
        Assert.Contains("PID-7", badDate.Text);

        var sameIds = Msa(await c.Send(Msh("ADT^A40", "BAD-6"), "PID|1||P-9", "MRG|P-9"));
        Assert.Equal("AE", sameIds.Code);

        // Still alive: a good message on the same connection after all that.
        var ok = Msa(await c.Send(Msh("ADT^A08", "OK-1"), "PID|1||NOBODY-HERE||||19800101|M"));
        Assert.Equal("AA", ok.Code);
        Assert.Contains("no studies", ok.Text);
        await feeds.WaitForAuditAsync(e => e.Action == "hl7.oru" && e.Outcome == "error" && e.Target.Contains("BAD-1"));
        await feeds.WaitForAuditAsync(e => e.Action == "hl7.reject" && e.Outcome == "rejected" && e.Target.Contains("BAD-4"));
    }
}
