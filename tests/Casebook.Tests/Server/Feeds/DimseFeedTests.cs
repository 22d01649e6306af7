using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Casebook.Extract.Dicom;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Server.Feeds.Dimse;

namespace Casebook.Tests.Server.Feeds;

/// <summary>
/// The DIMSE SCP against dcmtk's echoscu and storescu as real peers (Debian's dcmtk), and a hand-driven association for
/// what dcmtk will not do on purpose (a corrupt dataset, an abort after an acknowledged instance).
/// </summary>
[Collection("feeds")]
public class DimseFeedTests(FeedsServer feeds)
{
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

    static string Pydicom(string name) => SharedData.Require("dicom/pydicom/" + name);

    string StudyIdOf(string file)
    {
        using var f = DicomFile.Open(file, DicomReadOptions.HeaderOnly);
        return DicomUidMap.Remap(PatientPseudonym.Load(feeds.Temp.KeyFile), f.Dataset.GetString(new DicomTag(0x0020000D))!.Trim());
    }

    [Fact]
    public async Task Echoscu_gets_success_and_a_wrong_called_ae_title_is_rejected()
    {
        var ok = Run("echoscu", "-aet", "MODALITY1", "-aec", FeedsServer.AeTitle, "127.0.0.1", feeds.DimsePort.ToString());
        Assert.True(ok.Code == 0, ok.Output);
        var wrong = Run("echoscu", "-aet", "MODALITY1", "-aec", "NOT_CASEBOOK", "127.0.0.1", feeds.DimsePort.ToString());
        Assert.NotEqual(0, wrong.Code);
        Assert.Contains("Called AE Title Not Recognized", wrong.Output, StringComparison.OrdinalIgnoreCase);
        await feeds.WaitForAuditAsync(e => e.Action == "dimse.association" && e.Actor == "ae:MODALITY1" && e.Outcome == "released" && e.Detail!.Contains("1 echoes"));
        await feeds.WaitForAuditAsync(e => e.Action == "dimse.association" && e.Actor == "ae:MODALITY1" && e.Outcome == "rejected" && e.Detail!.Contains("NOT_CASEBOOK"));
    }

    [Fact]
    public async Task Storescu_sends_real_files_in_several_transfer_syntaxes_and_they_become_searchable_deidentified_studies()
    {
        // One association per transfer syntax, each proposed the way storescu proposes it: CT converted to Implicit VR Little
        // Endian (-xi), then RLE, JPEG 2000, JPEG baseline and deflated files sent as they are.
        var ct = Pydicom("CT_small.dcm");
        var sends = new (string File, string Propose)[]
        {
            (ct, "-xi"), (Pydicom("MR_small_RLE.dcm"), "-xr"), (Pydicom("JPEG2000.dcm"), "-xw"), (Pydicom("SC_rgb_jpeg_dcmtk.dcm"), "-xy"), (Pydicom("image_dfl.dcm"), "-xd"),
        };
        foreach (var (file, propose) in sends)
        {
            var r = Run("storescu", "-aet", "PACS_ROUTER", "-aec", FeedsServer.AeTitle, propose, "-R", "127.0.0.1", feeds.DimsePort.ToString(), file);
            Assert.True(r.Code == 0 && !r.Output.Contains("Failed"), $"{Path.GetFileName(file)} {propose}: {r.Output}");
        }
        await feeds.WaitForIngestAsync();
        var compressed = sends.Skip(1).Select(x => x.File).ToArray();

        foreach (var file in compressed.Prepend(ct))
        {
            var study = feeds.Db.GetStudy(StudyIdOf(file));
            Assert.True(study != null, $"{Path.GetFileName(file)}: no study");
            Assert.NotEmpty(study!.Segments.Where(g => g.Kind == "image_slice"));
            // De-identified like a folder drop: the stored instance has a pseudonymised patient and no name.
            using var original = DicomFile.Open(file, DicomReadOptions.HeaderOnly);
            Assert.NotEqual(original.Dataset.GetString(new DicomTag(0x00100020))?.Trim(), study.PatientPseudoId);
            using var stored = DicomFile.Open(feeds.Db.Blobs.Read(study.DicomImage!), DicomReadOptions.HeaderOnly);
            Assert.NotEqual(original.Dataset.GetString(new DicomTag(0x00100010)), stored.Dataset.GetString(new DicomTag(0x00100010)));
            Assert.NotEqual(original.Dataset.GetString(new DicomTag(0x0020000D)), stored.Dataset.GetString(new DicomTag(0x0020000D)));
        }
        var ctStudy = feeds.Db.GetStudy(StudyIdOf(ct))!;
        Assert.Equal("CT", ctStudy.Modality);
        // Searchable: the original CT as a similar-image query finds its stored study first.
        var hits = feeds.Db.Search(null, await File.ReadAllBytesAsync(ct)).Limit(3).Execute().Results;
        Assert.Equal(ctStudy.StudyId, hits[0].StudyId);
        await feeds.WaitForAuditAsync(e => e.Action == "dimse.ingest" && e.Actor == "ae:PACS_ROUTER" && e.Outcome == "success" && e.Detail!.StartsWith("1 instances"));
        Assert.Empty(Directory.GetDirectories(feeds.Spool.Root));
    }

    [Fact]
    public async Task A_study_sent_over_two_associations_keeps_the_instances_of_both()
    {
        // Two instances of one study (pydicom's NM samples), each in its own association, as modalities send series by series.
        var j2k = Pydicom("JPEG2000.dcm");
        var jpeg = Pydicom("JPGExtended.dcm");
        Assert.Equal(StudyIdOf(j2k), StudyIdOf(jpeg));
        foreach (var (file, propose) in new[] { (j2k, "-xw"), (jpeg, "-xx") })
        {
            var r = Run("storescu", "-aet", "NM_CAMERA", "-aec", FeedsServer.AeTitle, propose, "-R", "127.0.0.1", feeds.DimsePort.ToString(), file);
            Assert.True(r.Code == 0 && !r.Output.Contains("Failed"), r.Output);
            await feeds.WaitForIngestAsync();
        }
        var study = feeds.Db.GetStudy(StudyIdOf(j2k))!;
        var instances = study.Segments.Where(g => g.Kind == "image_slice" && g.Source.Section == null).Select(g => g.Source.File).Distinct().ToList();
        Assert.Equal(2, instances.Count);
        Assert.Equal(study.Segments.Count, study.Segments.Select(g => g.SegmentId).Distinct().Count());
        Assert.Equal(2, study.Metadata["dicom"]!["instance_count"]!.GetValue<int>());
        Assert.Equal(2, study.Metadata["dicom"]!["series"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_corrupt_dataset_is_refused_and_an_abort_after_an_acknowledged_instance_loses_nothing()
    {
        var file = Pydicom("liver_1frame.dcm");
        var bytes = await File.ReadAllBytesAsync(file);
        var metaLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(140));
        var dataset = bytes[(144 + metaLength)..];
        using var original = DicomFile.Open(file, DicomReadOptions.HeaderOnly);
        var sopClass = original.Dataset.GetString(new DicomTag(0x00080016))!.Trim('\0', ' ');
        var sopInstance = original.Dataset.GetString(new DicomTag(0x00080018))!.Trim('\0', ' ');
        var ts = original.TransferSyntax.Uid;

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", feeds.DimsePort);
        var s = client.GetStream();
        await s.WriteAsync(AssociateRq("RAW_SCU", FeedsServer.AeTitle, sopClass, ts));
        var ac = await ReadPdu(s);
        Assert.Equal(PduType.AssociateAc, ac.Type);

        // 1: a good instance, sent in several dataset fragments: success.
        await SendStore(s, sopClass, sopInstance, 1, dataset, fragment: 1000);
        Assert.Equal(DimseCommand.Success, (await ReadResponse(s)).Status);
        // 2: garbage where the dataset should be: "cannot understand" with a reason, and the association goes on.
        var garbage = Enumerable.Repeat((byte)0xEE, 300).ToArray();
        await SendStore(s, sopClass, "1.2.3.4.5.6.7", 2, garbage, fragment: 4096);
        var bad = await ReadResponse(s);
        Assert.Equal(DimseCommand.CannotUnderstand, bad.Status);
        Assert.False(string.IsNullOrEmpty(bad.ErrorComment));
        // 3: the peer aborts: the acknowledged instance is still ingested.
        await s.WriteAsync(DimsePduIo.Abort(0, 0));
        client.Close();
        await feeds.WaitForIngestAsync();
        Assert.NotNull(feeds.Db.GetStudy(StudyIdOf(file)));
        await feeds.WaitForAuditAsync(e => e.Action == "dimse.association" && e.Actor == "ae:RAW_SCU" && e.Outcome == "aborted" && e.Detail!.StartsWith("1 stored, 1 failed"));
    }

    [Fact]
    public async Task Instances_a_crash_left_in_the_spool_are_ingested_when_the_server_starts_and_partial_files_are_dropped()
    {
        // A server that died after acknowledging an instance: its spool folder holds the .dcm (acknowledged) and a .part (not).
        using var tmp = new TempDirectory();
        CasebookDb.Open(tmp["db"], new CasebookOptions { KeyFile = tmp.KeyFile }).Dispose();
        var folder = Directory.CreateDirectory(Path.Combine(tmp["db"], "server", "dimse-spool", "20240101000000000-crashed")).FullName;
        File.Copy(Pydicom("CT_small.dcm"), Path.Combine(folder, "000001.dcm"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "000002.part"), new byte[1000]);
        await using var server = Casebook.Server.CasebookServer.Create(new Casebook.Server.ServerOptions { DbDirectory = tmp["db"], KeyFile = tmp.KeyFile, Port = 0, DimsePort = 0 });
        await server.StartAsync();
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (Directory.Exists(folder) && DateTime.UtcNow < until) await Task.Delay(200);
        Assert.False(Directory.Exists(folder), "the recovered spool folder was not ingested");
        using var f = DicomFile.Open(Pydicom("CT_small.dcm"), DicomReadOptions.HeaderOnly);
        var id = DicomUidMap.Remap(PatientPseudonym.Load(tmp.KeyFile), f.Dataset.GetString(new DicomTag(0x0020000D))!.Trim());
        Assert.NotNull(server.Db.GetStudy(id));
    }

    [Fact]
    public async Task A_peer_that_sends_garbage_or_nothing_is_cut_off_and_the_scp_still_answers()
    {
        using (var garbage = new TcpClient())
        {
            await garbage.ConnectAsync("127.0.0.1", feeds.DimsePort);
            await garbage.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            var reply = new byte[10];
            var n = await garbage.GetStream().ReadAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(n == 0 || reply[0] == PduType.Abort, "the SCP answers garbage with an A-ABORT or closes");
        }
        // A huge declared PDU length is refused before anything is allocated.
        using (var huge = new TcpClient())
        {
            await huge.ConnectAsync("127.0.0.1", feeds.DimsePort);
            await huge.GetStream().WriteAsync(new byte[] { 0x01, 0, 0x7F, 0xFF, 0xFF, 0xFF });
            var reply = new byte[10];
            var n = await huge.GetStream().ReadAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(n == 0 || reply[0] == PduType.Abort);
        }
        // A silent connection is closed after the ARTIM timeout (5 s in this fixture).
        using (var silent = new TcpClient())
        {
            await silent.ConnectAsync("127.0.0.1", feeds.DimsePort);
            var n = await silent.GetStream().ReadAsync(new byte[10]).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(n is 0 or 10);
        }
        var ok = Run("echoscu", "-aec", FeedsServer.AeTitle, "127.0.0.1", feeds.DimsePort.ToString());
        Assert.True(ok.Code == 0, ok.Output);
    }

    // A minimal SCU, written from PS3.8 here rather than with the SCP's own encoder of associations.
    static byte[] AssociateRq(string calling, string called, string sopClass, string ts)
    {
        var body = new MemoryStream();
        body.Write([0, 1, 0, 0]);
        body.Write(Encoding.ASCII.GetBytes(called.PadRight(16)));
        body.Write(Encoding.ASCII.GetBytes(calling.PadRight(16)));
        body.Write(new byte[32]);
        Item(body, 0x10, Encoding.ASCII.GetBytes("1.2.840.10008.3.1.1.1"));
        var pc = new MemoryStream();
        pc.Write([1, 0, 0, 0]);
        Item(pc, 0x30, Encoding.ASCII.GetBytes(sopClass));
        Item(pc, 0x40, Encoding.ASCII.GetBytes(ts));
        Item(body, 0x20, pc.ToArray());
        var user = new MemoryStream();
        Item(user, 0x51, [0, 0, 0x40, 0]); // 16384
        Item(body, 0x50, user.ToArray());
        return DimsePduIo.Frame(PduType.AssociateRq, body.ToArray());
    }

    static void Item(Stream s, byte type, byte[] value)
    {
        s.Write([type, 0, (byte)(value.Length >> 8), (byte)value.Length]);
        s.Write(value);
    }

    static async Task SendStore(NetworkStream s, string sopClass, string sopInstance, ushort messageId, byte[] dataset, int fragment)
    {
        var command = new DimseCommand
        {
            AffectedSopClass = sopClass, CommandField = DimseCommand.CStoreRq, MessageId = messageId, DatasetType = 0x0000, AffectedSopInstance = sopInstance,
        };
        foreach (var p in DimsePduIo.PData(1, command.Encode(), command: true, 16384)) await s.WriteAsync(p);
        foreach (var p in DimsePduIo.PData(1, dataset, command: false, fragment + 6)) await s.WriteAsync(p);
    }

    static async Task<Pdu> ReadPdu(NetworkStream s) =>
        await DimsePduIo.ReadAsync(s, 1 << 20, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token) ?? throw new EndOfStreamException();

    static async Task<DimseCommand> ReadResponse(NetworkStream s)
    {
        var pdu = await ReadPdu(s);
        Assert.Equal(PduType.PData, pdu.Type);
        var length = BinaryPrimitives.ReadUInt32BigEndian(pdu.Body);
        Assert.Equal(3, pdu.Body[5]); // command, last fragment
        return DimseCommand.Parse(pdu.Body.AsSpan(6, (int)length - 2));
    }
}
