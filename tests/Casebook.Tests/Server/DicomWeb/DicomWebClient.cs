using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Microsoft.AspNetCore.WebUtilities;

namespace Casebook.Tests.Server.DicomWeb;

/// <summary>What the DICOMweb tests share: pydicom's test files, STOW bodies, multipart answers read back, DICOM JSON values.</summary>
static class DicomWebClient
{
    public const string TestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    public static string TestFile(string name)
    {
        var path = Path.Combine(TestFiles, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"pydicom's test file {path} is missing (scripts/setup-system.sh installs python3-pydicom)");
        return path;
    }

    /// <summary>A multipart/related; type="application/dicom" body (PS3.18 §10.5.1.2) of the given parts.</summary>
    public static MultipartContent StowBody(params byte[][] parts)
    {
        var body = new MultipartContent("related", "cb-test-" + Guid.NewGuid().ToString("N"));
        body.Headers.ContentType!.Parameters.Add(new NameValueHeaderValue("type", "\"application/dicom\""));
        foreach (var p in parts)
        {
            var c = new ByteArrayContent(p);
            c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
            body.Add(c);
        }
        return body;
    }

    public static async Task<(int Status, JsonNode Body)> Stow(HttpClient client, string path, params string[] files)
    {
        var r = await client.PostAsync(path, StowBody(files.Select(File.ReadAllBytes).ToArray()));
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, JsonNode.Parse(text) ?? throw new InvalidDataException($"{(int)r.StatusCode}: {text}"));
    }

    /// <summary>The parts of a multipart/related answer, each as its bytes.</summary>
    public static async Task<List<byte[]>> ReadParts(HttpResponseMessage r)
    {
        var type = r.Content.Headers.ContentType!;
        Assert.Equal("multipart/related", type.MediaType);
        var boundary = type.Parameters.First(p => p.Name == "boundary").Value!.Trim('"');
        var reader = new MultipartReader(boundary, await r.Content.ReadAsStreamAsync());
        var parts = new List<byte[]>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            Assert.StartsWith("application/dicom", section.ContentType);
            using var ms = new MemoryStream();
            await section.Body.CopyToAsync(ms);
            parts.Add(ms.ToArray());
        }
        return parts;
    }

    public static string? Value(JsonNode? dataset, string tag) => dataset?[tag]?["Value"]?[0] switch
    {
        null => null,
        JsonObject pn => pn["Alphabetic"]?.GetValue<string>(),
        var v => v.ToString(),
    };

    public static JsonArray Items(JsonNode response, string tag) => response[tag]?["Value"]?.AsArray() ?? new JsonArray();

    public static string Header(string path, DicomTag tag)
    {
        using var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
        return f.Dataset.GetString(tag)!.Trim();
    }

    public static string Header(byte[] bytes, DicomTag tag)
    {
        using var f = DicomFile.Open(bytes, DicomReadOptions.HeaderOnly);
        return f.Dataset.GetString(tag)?.Trim() ?? "";
    }
}
