using System.IO.Compression;

namespace Casebook.Extract.Dicom;

/// <summary>
/// A DICOM Part 10 file (PS3.10 §7): optional 128-byte preamble and "DICM", the File Meta Information
/// (group 0002, always explicit VR little endian), then the dataset in the transfer syntax the meta names.
/// Files without a meta header (raw datasets) are read too, with the transfer syntax inferred from the first element.
/// </summary>
public sealed class DicomFile : IDisposable
{
    readonly DicomByteSource _source;
    readonly List<DicomParseException> _problems = new();

    DicomFile(DicomByteSource source, DicomDataset meta, DicomDataset dataset, DicomTransferSyntax ts)
    {
        _source = source; Meta = meta; Dataset = dataset; TransferSyntax = ts;
    }

    /// <summary>Group 0002 (empty when the file has no meta header).</summary>
    public DicomDataset Meta { get; }
    public DicomDataset Dataset { get; private set; }
    public DicomTransferSyntax TransferSyntax { get; }
    public bool HasPreamble { get; private set; }
    public bool HasMeta => Meta.Count > 0;
    /// <summary>The source the dataset's offsets refer to (the inflated bytes for deflated files).</summary>
    public DicomByteSource Source => _dataSource ?? _source;
    DicomByteSource? _dataSource;
    /// <summary>Reading stopped at the top-level pixel data (StopBeforePixels).</summary>
    public bool StoppedBeforePixels { get; private set; }
    /// <summary>What went wrong while reading (the dataset holds everything read before it). Empty for a well-formed file.</summary>
    public IReadOnlyList<DicomParseException> Problems => _problems;
    /// <summary>Notes about tolerated deviations (no meta header, wrong VR explicitness, ...).</summary>
    public List<string> Warnings { get; } = new();
    public bool IsComplete => _problems.Count == 0;

    /// <summary>The pixel data element (top-level), if read.</summary>
    public DicomElement? PixelData => Dataset.Find(DicomTag.PixelData) ?? Dataset.Find(DicomTag.FloatPixelData) ?? Dataset.Find(DicomTag.DoubleFloatPixelData);

    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        options ??= DicomReadOptions.Default;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = RandomAccess.GetLength(handle);
        if (options.StopBeforePixels)
        {
            // Header only: load the file as the parser asks for it (one 8 KiB read covers most headers), so nothing much
            // past the pixel data element header is read and the header is parsed once.
            var header = new HeaderByteSource(handle, length, 8 * 1024, options.ReadWholeFileUpTo);
            try
            {
                var file = Read(header, options);
                header.Detach();
                return file;
            }
            catch (HeaderByteSource.TooLargeException) { header.Detach(); } // a header beyond the in-memory limit: read it through the window below
        }
        if (length <= options.ReadWholeFileUpTo)
            return Read(new MemoryByteSource(ReadPrefix(handle, (int)length)), options);
        var source = new FileByteSource(path);
        try { return Read(source, options); }
        catch { source.Dispose(); throw; }
    }

    static byte[] ReadPrefix(Microsoft.Win32.SafeHandles.SafeFileHandle handle, int count)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(count); // every byte returned is overwritten by the read
        var total = 0;
        while (total < count)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (n <= 0) return buffer[..total];
            total += n;
        }
        return buffer;
    }

    public static DicomFile Open(ReadOnlyMemory<byte> bytes, DicomReadOptions? options = null) => Read(new MemoryByteSource(bytes), options ?? DicomReadOptions.Default);

    public static DicomFile Open(Stream stream, DicomReadOptions? options = null)
    {
        var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Open(ms.GetBuffer().AsMemory(0, (int)ms.Length), options);
    }

    static DicomFile Read(DicomByteSource src, DicomReadOptions options)
    {
        var parser = new DicomParser(src, options);
        long pos = 0;
        var hasPreamble = false;
        // PS3.10 §7.1: 128-byte preamble then the 4-byte prefix "DICM".
        if (src.Length >= 132 && src.Peek(128, 4).SequenceEqual("DICM"u8)) { pos = 132; hasPreamble = true; }
        else if (src.Length >= 4 && src.Peek(0, 4).SequenceEqual("DICM"u8)) pos = 4;

        var meta = new DicomDataset(null, false, false, pos, capacity: 8);
        DicomParseException? metaProblem = null;
        if (src.Length - pos >= 8 && src.Peek(pos, 2) is [0x02, 0x00])
        {
            var metaImplicit = src.Length - pos >= 6 && !IsVR(src.Peek(pos + 4, 2));
            if (metaImplicit) meta = new DicomDataset(null, false, true, pos, capacity: 8);
            try
            {
                // Read group 0002 until the group changes; (0002,0000) is often wrong in the wild, so it does not bound the read.
                pos = parser.ReadDataset(meta, pos, src.Length, false, 0, t => t.Group != 0x0002);
            }
            catch (DicomParseException e) { metaProblem = e; }
        }
        else if (!hasPreamble && src.Length >= 8 && !LooksLikeDataset(src, 0))
        {
            throw new DicomParseException("not a DICOM file: no preamble/\"DICM\" prefix and the first bytes are not a data element", 0);
        }

        var tsUid = meta.GetString(DicomTag.TransferSyntaxUID);
        DicomTransferSyntax ts;
        var warnings = new List<string>();
        if (tsUid is { Length: > 0 }) ts = DicomTransferSyntax.FromUid(tsUid);
        else
        {
            ts = GuessSyntax(src, pos);
            warnings.Add(meta.Count > 0
                ? $"file meta information has no Transfer Syntax UID (0002,0010); read as {ts.Name}"
                : $"no file meta information (PS3.10 §7.1); read as {ts.Name}");
        }

        var file = new DicomFile(src, meta, new DicomDataset(null, ts.BigEndian, !ts.ExplicitVR, pos, capacity: 0), ts) { HasPreamble = hasPreamble };
        file.Warnings.AddRange(warnings);
        if (metaProblem != null) { file.Fail(metaProblem, options); return file; }

        var dataSource = src;
        var dataParser = parser;
        var dataStart = pos;
        var inflatedAll = true;
        if (ts.Deflated && pos < src.Length)
        {
            try
            {
                // Header only: inflate a first part; the rest only if the header does not end (at the pixel data) inside it.
                dataSource = Inflate(src, pos, options.MaxInflatedBytes, options.StopBeforePixels ? 16 * 1024 : long.MaxValue, out inflatedAll);
                file._dataSource = dataSource;
                dataParser = new DicomParser(dataSource, options);
                dataStart = 0;
            }
            catch (DicomParseException e) { file.Fail(e, options); return file; }
        }

        var problemsBefore = file._problems.Count;
        var warningsBefore = file.Warnings.Count;
        file.ParseDataset(dataSource, dataParser, dataStart, ts, inflatedAll ? options : options with { Strict = false });
        if (!inflatedAll && !dataParser.StoppedAtPixelData)
        {
            // The header ran past the inflated part (or the dataset has no pixel data): inflate all of it and read again.
            file._problems.RemoveRange(problemsBefore, file._problems.Count - problemsBefore);
            file.Warnings.RemoveRange(warningsBefore, file.Warnings.Count - warningsBefore);
            try { dataSource = Inflate(src, pos, options.MaxInflatedBytes, long.MaxValue, out _); }
            catch (DicomParseException e) { file.Fail(e, options); return file; }
            file._dataSource = dataSource;
            dataParser = new DicomParser(dataSource, options);
            file.ParseDataset(dataSource, dataParser, 0, ts, options);
        }
        file.StoppedBeforePixels = dataParser.StoppedAtPixelData;
        file.Warnings.AddRange(parser.Warnings);
        if (dataParser != parser) file.Warnings.AddRange(dataParser.Warnings);
        return file;
    }

    /// <summary>Reads the dataset after the meta header.</summary>
    void ParseDataset(DicomByteSource dataSource, DicomParser dataParser, long dataStart, DicomTransferSyntax ts, DicomReadOptions options)
    {
        // Some writers encode the dataset in the other VR explicitness than the meta claims; follow the bytes (as dcmtk and pydicom do).
        var explicitVR = ts.ExplicitVR;
        if (dataSource.Length - dataStart >= 8)
        {
            var looksExplicit = IsVR(dataSource.Peek(dataStart + 4, 2));
            if (explicitVR && !looksExplicit) { explicitVR = false; Warnings.Add("transfer syntax says explicit VR but the dataset is implicit VR; read as implicit"); }
            else if (!explicitVR && looksExplicit && ts.Uid == DicomTransferSyntax.ImplicitVRLittleEndian.Uid)
            { explicitVR = true; Warnings.Add("transfer syntax says implicit VR but the dataset is explicit VR; read as explicit"); }
        }
        Dataset = new DicomDataset(null, ts.BigEndian, !explicitVR, dataStart);
        try
        {
            dataParser.ReadDataset(Dataset, dataStart, dataSource.Length, false, 0);
        }
        catch (DicomParseException e) { Fail(e, options); }
    }

    void Fail(DicomParseException e, DicomReadOptions options)
    {
        _problems.Add(e);
        if (options.Strict) { Dispose(); throw e; }
    }

    static bool IsVR(ReadOnlySpan<byte> two) => two.Length == 2 && new DicomVR((ushort)((two[0] << 8) | two[1])).IsKnown;

    static bool LooksLikeDataset(DicomByteSource src, long pos)
    {
        var h = src.Peek(pos, 8);
        var groupLE = h[0] | (h[1] << 8);
        var groupBE = (h[0] << 8) | h[1];
        // A plausible first element: a low standard group (0000-0030) or an explicit VR.
        return groupLE <= 0x0030 || groupBE <= 0x0030 || IsVR(h.Slice(4, 2));
    }

    /// <summary>No meta: explicit if bytes 4-5 are a VR; big endian if the group reads smaller that way (PS3.5 §7.3).</summary>
    static DicomTransferSyntax GuessSyntax(DicomByteSource src, long pos)
    {
        if (src.Length - pos < 8) return DicomTransferSyntax.ImplicitVRLittleEndian;
        var h = src.Peek(pos, 8);
        var groupLE = h[0] | (h[1] << 8);
        var groupBE = (h[0] << 8) | h[1];
        var isExplicit = IsVR(h.Slice(4, 2));
        if (groupBE < groupLE) return isExplicit ? DicomTransferSyntax.ExplicitVRBigEndian : DicomTransferSyntax.ImplicitVRLittleEndian;
        return isExplicit ? DicomTransferSyntax.ExplicitVRLittleEndian : DicomTransferSyntax.ImplicitVRLittleEndian;
    }

    /// <summary>
    /// PS3.5 §A.5: the dataset after the meta header is a raw deflate (RFC 1951) stream. Some writers add a zlib header; accept it.
    /// Stops after about <paramref name="want"/> bytes (<paramref name="all"/> false when more was left).
    /// </summary>
    static MemoryByteSource Inflate(DicomByteSource src, long pos, long max, long want, out bool all)
    {
        var compressed = src.Read(pos, (int)Math.Min(src.Length - pos, int.MaxValue));
        var span = compressed.Span;
        var zlib = span.Length >= 2 && (span[0] & 0x0F) == 8 && ((span[0] << 8) | span[1]) % 31 == 0;
        using var input = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(compressed, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false) // no copy of the compressed bytes
            : new MemoryStream(compressed.ToArray(), writable: false);
        using Stream inflater = zlib ? new ZLibStream(input, CompressionMode.Decompress) : new DeflateStream(input, CompressionMode.Decompress);
        var first = want < long.MaxValue ? want : Math.Clamp(4L * compressed.Length + 4096, 4096, 1 << 20); // a guess at the inflated size
        var output = GC.AllocateUninitializedArray<byte>((int)Math.Max(1, Math.Min(max, first)));
        var length = 0;
        all = false;
        try
        {
            while (true)
            {
                if (length == output.Length)
                {
                    if (length >= want) return new MemoryByteSource(output.AsMemory(0, length));
                    if (length >= max)
                    {
                        // At the cap: only an error if the stream really goes on.
                        if (inflater.Read(new byte[1]) <= 0) { all = true; break; }
                        throw new DicomParseException($"deflated dataset inflates beyond the {max}-byte limit", pos);
                    }
                    var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Min(2L * output.Length, max), Array.MaxLength));
                    output.AsSpan(0, length).CopyTo(bigger);
                    output = bigger;
                }
                var n = inflater.Read(output, length, output.Length - length);
                if (n <= 0) { all = true; break; }
                length += n;
            }
        }
        // Fuzz finding (fuzz/regressions/deflate-zlib-error.dcm, AFL): corrupt input can make zlib fail with a code other
        // than Z_DATA_ERROR (e.g. a zlib header asking for a preset dictionary, Z_NEED_DICT); .NET raises that as
        // ZLibException, an IOException, not InvalidDataException. Both mean a broken deflate stream.
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            if (length == 0) throw new DicomParseException("deflated dataset is not a valid deflate stream: " + e.Message, pos, null, e);
            all = true; // keep what inflated; the parser reports where the dataset breaks off
        }
        return new MemoryByteSource(output.AsMemory(0, length));
    }

    public void Dispose() { _source.Dispose(); _dataSource?.Dispose(); }
}
