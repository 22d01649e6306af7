using System.Globalization;
using System.IO.Compression;
using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Volumes;

public class NiftiReaderTests
{
    static string Phantom(string part) => SharedData.Require($"radiomics/{part}");

    static double Reference(string key, string data)
    {
        foreach (var line in File.ReadLines(SharedData.Require("radiomics/ibsi1_reference_values.csv")).Skip(1))
        {
            var f = line.Split(',');
            if (f[0] == key && f[3] == data) return double.Parse(f[4], CultureInfo.InvariantCulture);
        }
        throw new KeyNotFoundException($"{key} / {data} not in the IBSI reference values");
    }

    [Fact]
    public void Digital_phantom_reads_with_its_grid_and_the_ibsi_voxel_statistics()
    {
        var image = NiftiReader.Read(Phantom("ibsi1_digital_phantom/nifti/image/phantom.nii.gz"));
        var mask = NiftiReader.Read(Phantom("ibsi1_digital_phantom/nifti/mask/mask.nii.gz"));
        Assert.Equal((5, 4, 4), (image.Nx, image.Ny, image.Nz));
        Assert.Equal([2.0, 2.0, 2.0], image.Spacing);
        Assert.True(image.SameGrid(mask));

        var inside = Enumerable.Range(0, image.Count).Where(i => mask.Voxels[i] > 0.5).Select(i => (double)image.Voxels[i]).ToList();
        // Voxel-counting volume and mean intensity must equal the IBSI reference values for this phantom.
        Assert.Equal(Reference("morph_approx_volume", "dig. phantom"), inside.Count * 8.0, 6);
        Assert.Equal(Reference("stat_mean", "dig. phantom"), inside.Average(), 2);
        Assert.Equal(Reference("stat_maximum", "dig. phantom"), inside.Max(), 6);
    }

    [Fact]
    public void Ct_phantom_geometry_matches_its_dicom_series_in_patient_coordinates()
    {
        var image = NiftiReader.Read(Phantom("ibsi1_ct_phantom/nifti/image/phantom.nii.gz"));
        Assert.Equal((204, 201, 60), (image.Nx, image.Ny, image.Nz));
        // dcmdump of the DICOM series: rows/columns 201/204, pixel spacing 0.977, slices 3 mm apart, the lowest slice
        // at ImagePositionPatient (-174.3945, -79.6255, -100.4) with identity orientation (LPS).
        Assert.Equal(-174.3945, image.Origin[0], 0.001);
        Assert.Equal(-79.6255, image.Origin[1], 0.001);
        Assert.Equal(-100.4, image.Origin[2], 0.001);
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], image.Direction.Select(v => Math.Round(v)));
        var top = image.ToPatient(0, 0, 59);
        Assert.Equal(76.6, top[2], 0.001);
        var back = image.ToVoxel(top[0], top[1], top[2]);
        Assert.Equal(59, back[2], 6);
        // The phantom is CT in Hounsfield units: air around it, soft tissue inside.
        Assert.InRange(image.Voxels.Min(), -1100, -900);
        Assert.InRange(image.Voxels.Max(), 100, 4000);
    }

    [Fact]
    public void Damaged_files_fail_with_the_file_name_and_reason()
    {
        using var dir = new TempDirectory();
        var good = File.ReadAllBytes(Phantom("ibsi1_digital_phantom/nifti/image/phantom.nii.gz"));
        byte[] raw;
        using (var gz = new GZipStream(new MemoryStream(good), CompressionMode.Decompress))
        using (var ms = new MemoryStream()) { gz.CopyTo(ms); raw = ms.ToArray(); }

        var truncated = Path.Combine(dir.Path, "truncated.nii");
        File.WriteAllBytes(truncated, raw[..(raw.Length - 20)]);
        var e1 = Assert.Throws<VolumeFormatException>(() => NiftiReader.Read(truncated));
        Assert.Contains("truncated.nii", e1.Message);
        Assert.Contains("not within the file", e1.Message);

        var notNifti = Path.Combine(dir.Path, "notes.nii");
        File.WriteAllText(notNifti, new string('x', 400));
        Assert.Contains("not a NIfTI file", Assert.Throws<VolumeFormatException>(() => NiftiReader.Read(notNifti)).Message);

        var brokenGz = Path.Combine(dir.Path, "broken.nii.gz");
        File.WriteAllBytes(brokenGz, good[..(good.Length / 2)]);
        var e3 = Assert.Throws<VolumeFormatException>(() => NiftiReader.Read(brokenGz));
        Assert.Contains("broken.nii.gz", e3.Message);

        // Uncompressed and gzip-compressed copies read the same.
        var plain = Path.Combine(dir.Path, "plain.nii");
        File.WriteAllBytes(plain, raw);
        Assert.Equal(NiftiReader.Read(plain).Voxels, NiftiReader.Read(Phantom("ibsi1_digital_phantom/nifti/image/phantom.nii.gz")).Voxels);
    }
}
