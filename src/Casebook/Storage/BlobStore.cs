using System.Security.Cryptography;
using Casebook.Model;

namespace Casebook.Storage;

/// <summary>
/// Content-addressed store for large binaries (DICOM, PDF, audio, images): each distinct content is
/// written once under blobs/ab/cdef… (SHA-256 hex) and read lazily. Writes go to a temp file that is
/// flushed to disk and renamed, so a crash leaves either the whole blob or none (an orphan blob left by a
/// crash before commit is harmless and removed by <see cref="CollectGarbage"/>).
/// </summary>
public sealed class BlobStore
{
    readonly string _root;

    public BlobStore(string root)
    {
        _root = root;
        Directory.CreateDirectory(Path.Combine(_root, "tmp"));
    }

    public string PathOf(string sha256) => Path.Combine(_root, sha256[..2], sha256[2..]);

    public bool Exists(string sha256) => File.Exists(PathOf(sha256));

    public BlobRef Put(ReadOnlySpan<byte> content)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var path = PathOf(sha);
        if (File.Exists(path)) return new BlobRef(sha, content.Length);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = Path.Combine(_root, "tmp", $"{sha}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        try { File.Move(tmp, path, overwrite: false); }
        catch (IOException) when (File.Exists(path)) { File.Delete(tmp); } // another writer stored the same content
        return new BlobRef(sha, content.Length);
    }

    public byte[] Read(BlobRef blob) => Read(blob.Sha256);

    /// <summary>Where a blob missing from this directory can be fetched (a cluster shard: the object store); null: nowhere.
    /// A fetched blob is stored here only if its content hashes to the name asked for.</summary>
    public Func<string, byte[]>? Missing { get; set; }

    public byte[] Read(string sha256)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path) && Missing is { } fetch)
        {
            var bytes = fetch(sha256);
            if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != sha256) throw new InvalidDataException($"blob {sha256}: the fetched content has another hash");
            Put(bytes);
            return bytes;
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"blob {sha256} is missing from the blob store", path);
        return File.ReadAllBytes(path);
    }

    /// <summary>Deletes every blob not in <paramref name="referenced"/> and stale temp files; returns the count removed.</summary>
    public int CollectGarbage(IReadOnlySet<string> referenced)
    {
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(_root))
        {
            var prefix = Path.GetFileName(dir);
            if (prefix == "tmp")
            {
                foreach (var f in Directory.EnumerateFiles(dir))
                    if (File.GetLastWriteTimeUtc(f) < DateTime.UtcNow.AddMinutes(-10)) { File.Delete(f); removed++; }
                continue;
            }
            foreach (var f in Directory.EnumerateFiles(dir))
            {
                var sha = prefix + Path.GetFileName(f);
                if (!referenced.Contains(sha)) { File.Delete(f); removed++; }
            }
        }
        return removed;
    }
}
