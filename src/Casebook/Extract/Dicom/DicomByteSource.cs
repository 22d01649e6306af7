using Microsoft.Win32.SafeHandles;

namespace Casebook.Extract.Dicom;

/// <summary>
/// Random-access bytes the parser reads from: an in-memory buffer (values are zero-copy slices) or a file
/// read through a small window (values above a threshold stay on disk until asked for).
/// </summary>
public abstract class DicomByteSource : IDisposable
{
    public abstract long Length { get; }
    /// <summary>Exactly <paramref name="count"/> bytes at <paramref name="offset"/>; valid until the next call. Caller checks bounds.</summary>
    public abstract ReadOnlySpan<byte> Peek(long offset, int count);
    /// <summary>Stable bytes (a slice or a copy) that outlive later reads.</summary>
    public abstract ReadOnlyMemory<byte> Read(long offset, int count);
    /// <summary>True when <see cref="Read"/> costs no copy (so no value needs to be deferred).</summary>
    public abstract bool IsInMemory { get; }
    public virtual void Dispose() { }
}

public sealed class MemoryByteSource(ReadOnlyMemory<byte> bytes) : DicomByteSource
{
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;
    public override long Length => Bytes.Length;
    public override ReadOnlySpan<byte> Peek(long offset, int count) => Bytes.Span.Slice((int)offset, count);
    public override ReadOnlyMemory<byte> Read(long offset, int count) => Bytes.Slice((int)offset, count);
    public override bool IsInMemory => true;
}

/// <summary>A file read with positional reads through a 64 KiB window; never loads more than it is asked for.</summary>
public sealed class FileByteSource : DicomByteSource
{
    readonly SafeFileHandle _handle;
    readonly byte[] _window = new byte[64 * 1024];
    long _windowStart = -1;
    int _windowLength;

    public FileByteSource(string path)
    {
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        Length = RandomAccess.GetLength(_handle);
    }

    public override long Length { get; }
    public override bool IsInMemory => false;

    public override ReadOnlySpan<byte> Peek(long offset, int count)
    {
        if (_windowStart >= 0 && offset >= _windowStart && offset + count <= _windowStart + _windowLength)
            return _window.AsSpan((int)(offset - _windowStart), count);
        if (count > _window.Length) return Read(offset, count).Span;
        _windowStart = offset;
        _windowLength = Fill(_window, offset);
        return _window.AsSpan(0, Math.Min(count, _windowLength));
    }

    public override ReadOnlyMemory<byte> Read(long offset, int count)
    {
        var buffer = new byte[count];
        var n = Fill(buffer, offset);
        return buffer.AsMemory(0, n);
    }

    int Fill(byte[] buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(_handle, buffer.AsSpan(total), offset + total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    public override void Dispose() => _handle.Dispose();
}
