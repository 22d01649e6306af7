using System.Runtime.InteropServices;

namespace Casebook.Extract.Audio;

/// <summary>libpocketsphinx 5prealpha / libsphinxbase (Debian 12 <c>libpocketsphinx3</c>, <c>libsphinxbase3</c>).</summary>
static unsafe partial class PocketSphinxNative
{
    const string Ps = "libpocketsphinx.so.3";
    const string Sb = "libsphinxbase.so.3";

    [LibraryImport(Ps)] public static partial IntPtr ps_args();
    [LibraryImport(Ps)] public static partial IntPtr ps_init(IntPtr config);
    [LibraryImport(Ps)] public static partial int ps_free(IntPtr ps);
    [LibraryImport(Ps)] public static partial int ps_start_utt(IntPtr ps);
    [LibraryImport(Ps)] public static partial int ps_process_raw(IntPtr ps, short* data, nuint nSamples, int noSearch, int fullUtt);
    [LibraryImport(Ps)] public static partial int ps_end_utt(IntPtr ps);
    [LibraryImport(Ps)] public static partial byte ps_get_in_speech(IntPtr ps);
    [LibraryImport(Ps)] public static partial IntPtr ps_seg_iter(IntPtr ps);
    [LibraryImport(Ps)] public static partial IntPtr ps_seg_next(IntPtr seg);
    [LibraryImport(Ps)] public static partial IntPtr ps_seg_word(IntPtr seg);
    [LibraryImport(Ps)] public static partial void ps_seg_frames(IntPtr seg, out int sf, out int ef);
    [LibraryImport(Ps)] public static partial int ps_seg_prob(IntPtr seg, out int ascr, out int lscr, out int lback);
    [LibraryImport(Ps)] public static partial void ps_seg_free(IntPtr seg);
    [LibraryImport(Ps)] public static partial IntPtr ps_get_logmath(IntPtr ps);
    [LibraryImport(Ps, StringMarshalling = StringMarshalling.Utf8)] public static partial int ps_set_lm(IntPtr ps, string name, IntPtr lm);
    [LibraryImport(Ps, StringMarshalling = StringMarshalling.Utf8)] public static partial int ps_set_search(IntPtr ps, string name);

    [LibraryImport(Sb)] public static partial IntPtr cmd_ln_parse_r(IntPtr inout, IntPtr defn, int argc, IntPtr* argv, int strict);
    [LibraryImport(Sb)] public static partial int cmd_ln_free_r(IntPtr config);
    [LibraryImport(Sb)] public static partial double logmath_exp(IntPtr lmath, int logbP);
    [LibraryImport(Sb, StringMarshalling = StringMarshalling.Utf8)] public static partial IntPtr ngram_model_read(IntPtr config, string path, int fileType, IntPtr lmath);
    [LibraryImport(Sb)] public static partial int ngram_model_free(IntPtr model);
    [LibraryImport(Sb)] public static partial IntPtr ngram_model_set_init(IntPtr config, IntPtr* models, IntPtr* names, float* weights, int n);

    /// <summary>cmd_ln_parse_r over UTF-8 copies of <paramref name="args"/> (name, value, name, value…).</summary>
    public static IntPtr ParseConfig(IReadOnlyList<string> args)
    {
        var argv = new IntPtr[args.Count];
        try
        {
            for (int i = 0; i < args.Count; i++) argv[i] = Marshal.StringToCoTaskMemUTF8(args[i]);
            fixed (IntPtr* p = argv) return cmd_ln_parse_r(IntPtr.Zero, ps_args(), args.Count, p, 1);
        }
        finally { foreach (var a in argv) if (a != IntPtr.Zero) Marshal.FreeCoTaskMem(a); }
    }
}
