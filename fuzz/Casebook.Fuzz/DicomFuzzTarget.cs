using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Fuzz;

/// <summary>
/// One fuzz input through everything a hostile file can reach: the Part 10 reader in its three modes
/// (in memory, streamed header-only, strict), the JSON dump, pixel decoding and rendering of the first frame.
/// The documented failures (<see cref="DicomParseException"/>, <see cref="PixelDecodeException"/>) are expected;
/// anything else escaping is a finding, and so is allocating more than <see cref="MaxAllocatedBytes"/> for one input.
/// </summary>
/// <remarks>Shared by the AFL harness (Program.cs) and the CI smoke test (linked into Casebook.Tests).</remarks>
public static class DicomFuzzTarget
{
    /// <summary>Managed bytes one input may allocate (all stages together). Inputs are at most a few hundred KB.</summary>
    public const long MaxAllocatedBytes = 256L << 20;

    static readonly DicomReadOptions Memory = new() { MaxInflatedBytes = 16L << 20 };
    static readonly DicomReadOptions HeaderOnly = new() { StopBeforePixels = true, MaxInflatedBytes = 16L << 20 };
    static readonly DicomReadOptions Strict = new() { Strict = true, MaxInflatedBytes = 16L << 20 };
    static readonly PixelDecodeOptions Pixels = new() { MaxDecodedBytes = 32L << 20, FrameCount = 4 };
    // From a file, with the thresholds lowered so that small inputs take the windowed source and deferred values.
    static readonly DicomReadOptions Windowed = new() { ReadWholeFileUpTo = 2048, DeferValuesLongerThan = 128, MaxInflatedBytes = 16L << 20 };
    static readonly DicomReadOptions FileHeaderOnly = Windowed with { StopBeforePixels = true };
    static readonly string ScratchFile = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"casebook-fuzz-{Environment.ProcessId}.dcm");

    static DicomFuzzTarget() => AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(ScratchFile);

    public static void Run(ReadOnlySpan<byte> input) => Run(input.ToArray());

    public static void Run(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        ParseDumpDecode(input);
        Expect(() => { using var f = DicomFile.Open(new MemoryStream(input, writable: false), HeaderOnly); DicomJson.Dump(f); });
        Expect(() => { using var f = DicomFile.Open(input, Strict); DicomJson.Dump(f); });
        FromFile(input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > MaxAllocatedBytes)
            throw new FuzzFindingException($"allocated {allocated} bytes for a {input.Length}-byte input (bound {MaxAllocatedBytes})");
    }

    /// <summary>The path entry point: header-only prefix growth, and the windowed file source with values left on disk.</summary>
    static void FromFile(byte[] input)
    {
        lock (ScratchFile)
        {
            File.WriteAllBytes(ScratchFile, input);
            Expect(() => { using var f = DicomFile.Open(ScratchFile, FileHeaderOnly); DicomJson.Dump(f); });
            try
            {
                using var f = DicomFile.Open(ScratchFile, Windowed);
                DicomJson.Dump(f);
                if (f.PixelData != null) PixelDecoder.Decode(f, Pixels);
            }
            catch (DicomParseException) { }
            catch (PixelDecodeException) { }
        }
    }

    static void ParseDumpDecode(byte[] input)
    {
        DicomFile file;
        try { file = DicomFile.Open(input, Memory); }
        catch (DicomParseException) { return; }
        using (file)
        {
            DicomJson.Dump(file);
            if (file.PixelData == null) return;
            PixelData pixels;
            try { pixels = PixelDecoder.Decode(file, Pixels); }
            catch (PixelDecodeException) { return; }
            catch (DicomParseException) { return; }
            try { ImageRenderer.Render(file.Dataset, pixels, 0).Thumbnail(64); }
            catch (PixelDecodeException) { }
            catch (DicomParseException) { }
        }
    }

    /// <summary>Runs the stages one by one, printing the time and outcome of each (the <c>diag</c> command).</summary>
    public static void Diagnose(byte[] input, TextWriter log)
    {
        DicomFile? file = null;
        PixelData? pixels = null;
        Stage(log, "open (memory)", () => file = DicomFile.Open(input, Memory));
        if (file != null)
        {
            log.WriteLine($"  syntax {file.TransferSyntax}, {file.Dataset.Count} elements, {file.Problems.Count} problems");
            Stage(log, "json dump", () => DicomJson.Dump(file));
            if (file.PixelData?.Fragments is { } fragments)
            {
                var frames = fragments.GetFrames();
                log.WriteLine($"  {fragments.Fragments.Count} fragments, {frames.Count} frames: {string.Join(", ", frames.Take(8).Select(f => f.Length))}");
                // FUZZ_DIAG_FRAMES=DIR: write the encoded frames out, to feed a codec on its own.
                if (Environment.GetEnvironmentVariable("FUZZ_DIAG_FRAMES") is { Length: > 0 } dir)
                    foreach (var f in frames.Take(8)) File.WriteAllBytes(Path.Combine(dir, $"frame{f.Index}.bin"), fragments.ReadFrame(f));
            }
            if (file.PixelData != null) Stage(log, "pixel decode", () => pixels = PixelDecoder.Decode(file, Pixels));
            if (pixels != null) Stage(log, "render", () => ImageRenderer.Render(file.Dataset, pixels, 0).Thumbnail(64));
        }
        Stage(log, "open (stream, header only) + dump", () => { using var f = DicomFile.Open(new MemoryStream(input, writable: false), HeaderOnly); DicomJson.Dump(f); });
        Stage(log, "open (strict) + dump", () => { using var f = DicomFile.Open(input, Strict); DicomJson.Dump(f); });
        Stage(log, "open (file, windowed) + dump + decode", () => FromFile(input));
    }

    static void Stage(TextWriter log, string name, Action action)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try { action(); outcome = "ok"; }
        catch (Exception e) { outcome = $"{e.GetType().Name}: {e.Message}"; }
        log.WriteLine($"{name,-36} {sw.Elapsed.TotalMilliseconds,9:0.0} ms {(GC.GetAllocatedBytesForCurrentThread() - before) / 1024,9} KiB  {outcome}");
    }

    static void Expect(Action action)
    {
        try { action(); }
        catch (DicomParseException) { }
    }
}

/// <summary>A fuzz finding that is not an exception of its own (an allocation over the bound).</summary>
public sealed class FuzzFindingException(string message) : Exception(message);
