using System.Runtime.InteropServices;

namespace Casebook.Index;

/// <summary>
/// Direct bindings to USearch's C API (libusearch_c, shipped in the Cloud.Unum.USearch package).
/// The package's managed wrapper lacks filtered search, expansion changes, thread limits, memory
/// usage and buffer serialisation, all of which the index needs, so it calls the C ABI itself.
/// </summary>
internal static unsafe partial class USearchNative
{
    const string Lib = "libusearch_c";

    // Numeric values as in usearch.h (2.26): usearch_scalar_kind_t / usearch_metric_kind_t.
    public enum ScalarKind : uint { F32 = 1, F64 = 2, F16 = 3, I8 = 4 }
    public enum MetricKind : uint { Cos = 1, Ip = 2 }

    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public MetricKind MetricKind;
        public nint Metric;
        public ScalarKind Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi; // C bool
    }

    [LibraryImport(Lib)] public static partial nint usearch_init(InitOptions* options, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_free(nint index, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_serialized_length(nint index, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_save_buffer(nint index, void* buffer, nuint length, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_load_buffer(nint index, void* buffer, nuint length, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_size(nint index, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_capacity(nint index, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_memory_usage(nint index, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_reserve(nint index, nuint capacity, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_change_expansion_add(nint index, nuint expansion, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_change_expansion_search(nint index, nuint expansion, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_change_threads_add(nint index, nuint threads, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_change_threads_search(nint index, nuint threads, out nint error);
    [LibraryImport(Lib)] public static partial void usearch_add(nint index, ulong key, float* vector, ScalarKind kind, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_remove(nint index, ulong key, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_search(nint index, float* query, ScalarKind kind, nuint count,
        ulong* keys, float* distances, out nint error);
    [LibraryImport(Lib)] public static partial nuint usearch_filtered_search(nint index, float* query, ScalarKind kind, nuint count,
        delegate* unmanaged<ulong, nint, int> filter, nint filterState, ulong* keys, float* distances, out nint error);
    [LibraryImport(Lib)] public static partial nint usearch_hardware_acceleration(nint index, out nint error);

    /// <summary>Throws when USearch reported an error (its messages are static strings, never freed).</summary>
    public static void Check(nint error, string operation)
    {
        if (error != 0)
            throw new InvalidOperationException($"USearch {operation} failed: {Marshal.PtrToStringUTF8(error)}");
    }
}
