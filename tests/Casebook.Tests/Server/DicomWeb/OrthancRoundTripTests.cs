using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Tests.Search;
using static Casebook.Tests.Server.DicomWeb.DicomWebClient;

namespace Casebook.Tests.Server.DicomWeb;

/// <summary>
/// The real peer: Debian's Orthanc with its DICOMweb plugin, started by the test on loopback with its own ports and storage,
/// configured with Casebook's /dicomweb as a DICOMweb server (bearer API key). Orthanc stores three instances (two studies),
/// STOWs them to Casebook, queries Casebook with QIDO and retrieves the studies back with WADO-RS.
/// </summary>
[Collection("demo corpus")]
public class OrthancRoundTripTests(DemoCorpusFixture demo)
{
    const string OrthancBinary = "/usr/sbin/Orthanc";
    const string DicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";
    readonly DemoServer server = DemoServer.Shared(demo);

    [Fact]
    public async Task Orthanc_stows_to_casebook_finds_the_pseudonymised_studies_and_retrieves_the_deidentified_instances()
    {
        if (!File.Exists(OrthancBinary) || !File.Exists(DicomWebPlugin))
            throw new InvalidOperationException($"{OrthancBinary} or {DicomWebPlugin} is missing: run scripts/setup-system.sh (installs Debian's orthanc and orthanc-dicomweb)");
        using var temp = new TempDirectory();
        int httpPort = FreePort(), dicomPort = FreePort();
        var config = new JsonObject
        {
            ["Name"] = "casebook-peer",
            ["StorageDirectory"] = temp["storage"],
            ["IndexDirectory"] = temp["storage"],
            ["HttpPort"] = httpPort,
            ["DicomPort"] = dicomPort,
            ["DicomAet"] = "CBPEER",
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = false,
            ["Plugins"] = new JsonArray(DicomWebPlugin),
            ["DicomWeb"] = new JsonObject
            {
                ["Enable"] = true,
                ["Root"] = "/dicom-web/",
                ["Servers"] = new JsonObject
                {
                    ["casebook"] = new JsonObject
                    {
                        ["Url"] = server.BaseUrl + "dicomweb/",
                        ["HttpHeaders"] = new JsonObject { ["Authorization"] = "Bearer " + server.Keys["admin"] },
                    },
                },
            },
        };
        var configFile = Path.Combine(temp.Path, "orthanc.json");
        await File.WriteAllTextAsync(configFile, config.ToJsonString());
        var log = new StringBuilder();
        using var orthanc = new Process { StartInfo = new ProcessStartInfo(OrthancBinary, configFile) { RedirectStandardError = true, RedirectStandardOutput = true } };
        orthanc.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        orthanc.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        orthanc.Start();
        orthanc.BeginOutputReadLine();
        orthanc.BeginErrorReadLine();
        try
        {
            using var peer = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromMinutes(3) };
            await WaitUntilUp(peer, orthanc, log);
            string Log() { lock (log) return log.ToString(); }

            // 1. Three real instances into Orthanc: an MR study, and an NM study of two instances.
            string[] files = [TestFile("MR_small.dcm"), TestFile("JPEG2000.dcm"), TestFile("JPGExtended.dcm")];
            var orthancStudies = new List<string>();
            foreach (var f in files)
            {
                var r = await peer.PostAsync("instances", new ByteArrayContent(File.ReadAllBytes(f)));
                var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
                Assert.True(r.IsSuccessStatusCode, body.ToJsonString());
                orthancStudies.Add(body["ParentStudy"]!.GetValue<string>());
            }

            // 2. Orthanc sends them to Casebook with STOW-RS.
            var stow = await peer.PostAsync("dicom-web/servers/casebook/stow",
                new StringContent(new JsonObject { ["Resources"] = new JsonArray(orthancStudies.Distinct().Select(s => (JsonNode)s).ToArray()), ["Synchronous"] = true }.ToJsonString()));
            Assert.True(stow.IsSuccessStatusCode, $"{(int)stow.StatusCode}: {await stow.Content.ReadAsStringAsync()}\n{Log()}");

            // What Casebook stored: UIDs remapped with the database's key, the patient under its pseudonym, dates shifted.
            var key = PatientPseudonym.Load(server.KeyFile);
            var mrStudy = DicomUidMap.Remap(key, Header(files[0], DicomTag.StudyInstanceUID));
            var nmStudy = DicomUidMap.Remap(key, Header(files[1], DicomTag.StudyInstanceUID));
            var mrPatient = key.Pseudonymise(StudyManifest.DefaultIssuer, Header(files[0], DicomTag.PatientID));
            Assert.NotEqual(Header(files[0], DicomTag.StudyInstanceUID), mrStudy);
            var admin = server.As("admin");
            var audit = JsonNode.Parse(await (await admin.GetAsync("api/audit?limit=1000")).Content.ReadAsStringAsync())!["entries"]!.AsArray();
            // Orthanc's STOW requests were audited and stored every instance it sent.
            Assert.Contains(audit, e => e!["action"]!.GetValue<string>() == "dicomweb.store" && e["detail"]?.GetValue<string>()?.Contains(" stored, 0 failed") == true);

            // 3. Orthanc queries Casebook (QIDO-RS) by the pseudonymised PatientID, and by a range around the stored (shifted) date.
            var byPatient = await Qido(peer, "/studies", new JsonObject { ["PatientID"] = mrPatient });
            var found = Assert.Single(byPatient)!;
            Assert.Equal(mrStudy, OrthancValue(found, "0020000D"));
            Assert.Empty(await Qido(peer, "/studies", new JsonObject { ["PatientID"] = Header(files[0], DicomTag.PatientID) }));
            var storedDate = OrthancValue(found, "00080020")!;
            Assert.Equal(8, storedDate.Length);
            var range = $"{int.Parse(storedDate) - 1}-{int.Parse(storedDate) + 1}";
            var byDate = await Qido(peer, "/studies", new JsonObject { ["StudyDate"] = range, ["ModalitiesInStudy"] = "MR" });
            Assert.Contains(byDate, s => OrthancValue(s, "0020000D") == mrStudy);
            var nmInstances = await Qido(peer, $"/studies/{nmStudy}/instances", new JsonObject());
            Assert.Equal(2, nmInstances.Count);

            // 4. Orthanc retrieves both studies from Casebook (WADO-RS): the stored, de-identified instances arrive.
            var retrieve = await peer.PostAsync("dicom-web/servers/casebook/retrieve",
                new StringContent(new JsonObject { ["Resources"] = new JsonArray(new JsonObject { ["Study"] = mrStudy }, new JsonObject { ["Study"] = nmStudy }) }.ToJsonString()));
            var retrieved = JsonNode.Parse(await retrieve.Content.ReadAsStringAsync())!;
            Assert.True(retrieve.IsSuccessStatusCode, retrieved.ToJsonString() + "\n" + Log());
            Assert.Equal("3", retrieved["ReceivedInstancesCount"]!.ToString());
            var find = await peer.PostAsync("tools/find", new StringContent(new JsonObject { ["Level"] = "Instance", ["Query"] = new JsonObject { ["StudyInstanceUID"] = mrStudy }, ["Expand"] = true }.ToJsonString()));
            var arrived = Assert.Single(JsonNode.Parse(await find.Content.ReadAsStringAsync())!.AsArray())!;
            Assert.Equal(DicomUidMap.Remap(key, Header(files[0], DicomTag.SOPInstanceUID)), arrived["MainDicomTags"]!["SOPInstanceUID"]!.GetValue<string>());
            var tags = JsonNode.Parse(await (await peer.GetAsync($"instances/{arrived["ID"]}/simplified-tags")).Content.ReadAsStringAsync())!;
            Assert.Equal(mrPatient, tags["PatientID"]!.GetValue<string>());
            Assert.StartsWith("ANON^", tags["PatientName"]!.GetValue<string>());
            Assert.Equal("YES", tags["PatientIdentityRemoved"]!.GetValue<string>());
            Assert.Equal(storedDate, tags["StudyDate"]!.GetValue<string>());
        }
        finally
        {
            if (!orthanc.HasExited) { orthanc.Kill(); orthanc.WaitForExit(10_000); }
        }
    }

    /// <summary>Orthanc's QIDO client answers each attribute as {"Value": "..."} (first value), not DICOM JSON arrays.</summary>
    static string? OrthancValue(JsonNode? dataset, string tag) => dataset?[tag]?["Value"] switch
    {
        null => null,
        JsonArray a => a.Count == 0 ? null : a[0] is JsonObject pn ? pn["Alphabetic"]?.ToString() : a[0]?.ToString(),
        var v => v.ToString(),
    };

    static async Task<JsonArray> Qido(HttpClient peer, string uri, JsonObject arguments)
    {
        var r = await peer.PostAsync("dicom-web/servers/casebook/qido", new StringContent(new JsonObject { ["Uri"] = uri, ["Arguments"] = arguments }.ToJsonString()));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"QIDO {uri}: {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsArray();
    }

    static async Task WaitUntilUp(HttpClient peer, Process orthanc, StringBuilder log)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (orthanc.HasExited) throw new InvalidOperationException($"Orthanc exited with {orthanc.ExitCode}: {log}");
            try { if ((await peer.GetAsync("system")).StatusCode == HttpStatusCode.OK) return; }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Orthanc did not answer on {peer.BaseAddress} within 60 s: {log}");
    }

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
