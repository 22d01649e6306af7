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

/// <summary>
/// The header of a file, read on demand: starts with one read sized for a typical header and, when the
/// parser asks for bytes past what is loaded, reads on (at least doubling) — so parsing never restarts, and nothing
/// much past the last element asked for (the pixel data header, when stopping before pixels) is read. Values are
/// zero-copy slices: a slice of an earlier buffer stays valid after growth because the bytes are the same.
/// <see cref="Length"/> is the file's length, so bounds checks see the real file, not the loaded prefix.
/// </summary>
internal sealed class HeaderByteSource : DicomByteSource
{
    /// <summary>Growth past this many bytes gives up (the caller falls back to a windowed <see cref="FileByteSource"/>).</summary>
    internal sealed class TooLargeException : Exception;

    SafeFileHandle? _handle;
    byte[] _buffer;
    int _loaded;
    readonly long _maxLoad;

    public HeaderByteSource(SafeFileHandle handle, long length, int initial, long maxLoad)
    {
        _handle = handle;
        Length = length;
        _maxLoad = maxLoad;
        // Uninitialised: every byte handed out is first overwritten by the file read, so zeroing would be wasted work.
        _buffer = new byte[(int)Math.Min(length, initial)];
        _loaded = Fill(_buffer, 0);
    }

    public override long Length { get; }
    public override bool IsInMemory => true;
    /// <summary>Bytes read from the file so far.</summary>
    public int Loaded => _loaded;

    public override ReadOnlySpan<byte> Peek(long offset, int count)
    {
        var end = offset + count;
        if (end > _loaded) Grow(end);
        return _buffer.AsSpan((int)offset, count);
    }

    public override ReadOnlyMemory<byte> Read(long offset, int count)
    {
        var end = offset + count;
        if (end > _loaded) Grow(end);
        return _buffer.AsMemory((int)offset, count);
    }

    void Grow(long needed)
    {
        if (needed > Length) throw new ArgumentOutOfRangeException(nameof(needed), "read past the end of the file");
        if (_handle == null) throw new InvalidOperationException("the file was read up to its pixel data only; open it fully to read further");
        if (needed > _maxLoad) throw new TooLargeException();
        var size = Math.Min(Length, Math.Min(_maxLoad, Math.Max(needed, 2L * _buffer.Length)));
        if (size > _buffer.Length)
        {
            var bigger = GC.AllocateUninitializedArray<byte>((int)size);
            _buffer.AsSpan(0, _loaded).CopyTo(bigger);
            _buffer = bigger;
        }
        _loaded += Fill(_buffer, _loaded);
        if (needed > _loaded) throw new EndOfStreamException("the file is shorter than its length said");
    }

    int Fill(byte[] buffer, int from)
    {
        var total = 0;
        while (from + total < buffer.Length)
        {
            var n = RandomAccess.Read(_handle!, buffer.AsSpan(from + total), from + total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Stops reading the file (the caller owns and closes the handle); what was loaded stays readable.</summary>
    public void Detach() => _handle = null;
    public override void Dispose() => Detach();
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
