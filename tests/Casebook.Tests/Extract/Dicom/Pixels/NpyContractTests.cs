using System.Diagnostics;
using Casebook.Extract.Dicom.Pixels;
using Xunit;
using Xunit.Abstractions;

namespace Casebook.Tests.Extract.Dicom.Pixels;

/// <summary>
/// The `dicom pixels --out F.npy` contract: NumPy loads the file, its shape is [frames, rows, columns, samples] and
/// dtype the stored type, and — for natively encoded and RLE files, which pydicom 2.3 decodes with NumPy alone —
/// the values equal pydicom's pixel_array (Debian python3-pydicom, python3-numpy).
/// </summary>
public class NpyContractTests(ITestOutputHelper output)
{
    const string Python = "/usr/bin/python3";
    const string Debian = "/usr/lib/python3/dist-packages/pydicom/data/test_files/";

    static readonly string[] Files =
    [
        "dicom/pydicom/CT_small.dcm", "dicom/pydicom/MR_small_bigendian.dcm", "dicom/pydicom/SC_rgb_rle_16bit.dcm",
        "dicom/pydicom/SC_rgb_rle_32bit_2frame.dcm", "dicom/pydicom/rtdose_expb.dcm", "dicom/pydicom/SC_rgb_small_odd_big_endian.dcm",
        "dicom/pydicom/SC_ybr_full_422_uncompressed.dcm", "dicom/pydicom/rtdose_rle.dcm", "dicom/highdicom/seg_image_ct_binary.dcm",
        "dicom/pydicom/MR_small_expb.dcm", "dicom/pydicom/MR_small_RLE.dcm", "dicom/pydicom/liver_expb_1frame.dcm",
    ];

    [Fact]
    public void Npy_files_load_in_numpy_and_equal_pydicom()
    {
        if (!File.Exists(Python)) throw new InvalidOperationException("this test needs Debian's python3 with python3-numpy and python3-pydicom");
        using var tmp = new TempDirectory();
        var pairs = new List<string>();
        foreach (var rel in Files)
        {
            var src = SharedData.Require(rel);
            var npy = tmp[Path.GetFileName(rel) + ".npy"];
            Assert.Equal(0, Casebook.Cli.PixelCommands.Pixels([src, "--out", npy]));
            // pydicom 2.3 does not undo the 16-bit word swap of 8-bit OW data in big endian files; its little endian twin is the reference.
            var reference = rel.EndsWith("SC_rgb_small_odd_big_endian.dcm") ? SharedData.Require("dicom/pydicom/SC_rgb_small_odd.dcm") : src;
            pairs.Add(reference + "\t" + npy);
        }
        var list = tmp["pairs.tsv"];
        File.WriteAllLines(list, pairs);
        var script = """
import sys, numpy as np, pydicom, warnings
warnings.simplefilter('ignore')
bad = 0
for line in open(sys.argv[1]):
    src, npy = line.rstrip('\n').split('\t')
    ours = np.load(npy)
    ds = pydicom.dcmread(src, force=True)
    ref = ds.pixel_array
    frames = int(getattr(ds, 'NumberOfFrames', 1) or 1)
    spp = int(ds.SamplesPerPixel)
    ref = ref.reshape(frames, int(ds.Rows), int(ds.Columns), spp)
    bits = int(ds.BitsStored)
    if ds.BitsAllocated > 1 and bits < ds.BitsAllocated:
        mask = (1 << bits) - 1
        ref = ref.astype(np.int64) & mask
        if ds.PixelRepresentation == 1: ref = np.where(ref >= (1 << (bits - 1)), ref - (1 << bits), ref)
    same = ours.shape == ref.shape and ours.dtype.kind == ref.dtype.kind and ours.dtype.itemsize == ref.dtype.itemsize and np.array_equal(ours.astype(np.int64), ref.astype(np.int64))
    print(('OK  ' if same else 'DIFF') + f' {src.split("/")[-1]} ours {ours.shape} {ours.dtype} pydicom {ref.shape} {ref.dtype}')
    bad += not same
sys.exit(1 if bad else 0)
""";
        var py = tmp["compare.py"];
        File.WriteAllText(py, script);
        var psi = new ProcessStartInfo(Python, $"\"{py}\" \"{list}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd(); var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        output.WriteLine(stdout + stderr);
        Assert.True(p.ExitCode == 0, stdout + stderr);
    }
}
