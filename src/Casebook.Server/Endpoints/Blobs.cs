using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>Original binaries by content hash. Only a 64-digit lowercase hex name is accepted, so no path can be smuggled in.</summary>
static class Blobs
{
    public static IResult Download(string sha256, CasebookDb db)
    {
        CheckName(sha256);
        if (!db.Blobs.Exists(sha256)) throw new ProblemException(404, "Not found", $"no blob {sha256}");
        var bytes = db.Blobs.Read(sha256);
        return Results.Bytes(bytes, Sniff(bytes), fileDownloadName: sha256);
    }

    internal static void CheckName(string sha256)
    {
        if (sha256.Length != 64 || !sha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw new ArgumentException("a blob is named by its SHA-256: 64 lowercase hex digits");
    }

    internal static string Sniff(byte[] b)
    {
        bool At(int offset, string magic) => b.Length >= offset + magic.Length && magic.Select((ch, i) => b[offset + i] == ch).All(x => x);
        if (At(128, "DICM")) return "application/dicom";
        if (At(0, "%PDF")) return "application/pdf";
        if (At(0, "\x89PNG")) return "image/png";
        if (b.Length > 2 && b[0] == 0xFF && b[1] == 0xD8) return "image/jpeg";
        if (At(0, "RIFF") && At(8, "WAVE")) return "audio/wav";
        if (At(0, "OggS")) return "audio/ogg";
        if (At(0, "fLaC")) return "audio/flac";
        if (At(0, "ID3")) return "audio/mpeg";
        return "application/octet-stream";
    }
}
