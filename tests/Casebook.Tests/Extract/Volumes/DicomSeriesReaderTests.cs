using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Volumes;

public class DicomSeriesReaderTests
{
    static string Phantom(string part) => SharedData.Require($"radiomics/ibsi1_ct_phantom/{part}");

    [Fact]
    public void Ct_phantom_series_reads_to_the_same_grid_and_hounsfield_voxels_as_its_nifti()
    {
        var series = DicomSeriesReader.Read(Phantom("dicom/image"));
        var nifti = NiftiReader.Read(Phantom("nifti/image/phantom.nii.gz"));
        var v = series.Volume;
        Assert.Equal((204, 201, 60), (v.Nx, v.Ny, v.Nz));
        Assert.True(v.SameGrid(nifti), $"grid differs: origin {string.Join(",", v.Origin)} spacing {string.Join(",", v.Spacing)}");
        Assert.Equal(60, series.SopInstanceUids.Distinct().Count());
        Assert.Equal("CT", series.Modality);
        // Rescale slope/intercept applied: every voxel equals the NIfTI's (which stores HU).
        var maxDiff = 0.0;
        for (var i = 0; i < v.Count; i++) maxDiff = Math.Max(maxDiff, Math.Abs(v.Voxels[i] - nifti.Voxels[i]));
        Assert.True(maxDiff < 0.5, $"largest voxel difference {maxDiff} HU");
    }

    [Fact]
    public void Missing_slice_and_mixed_series_fail_naming_the_file()
    {
        var files = Directory.GetFiles(Phantom("dicom/image")).Order(StringComparer.Ordinal).ToList();
        files.RemoveAt(30);
        var gap = Assert.Throws<VolumeFormatException>(() => DicomSeriesReader.Read(files));
        Assert.Contains("uneven spacing", gap.Message);
        Assert.Contains(".dcm", gap.Message);

        using var dir = new TempDirectory();
        var broken = Path.Combine(dir.Path, "broken.dcm");
        File.WriteAllBytes(broken, File.ReadAllBytes(files[0])[..400]);
        var e = Assert.Throws<VolumeFormatException>(() => DicomSeriesReader.Read([broken]));
        Assert.Contains("broken.dcm", e.Message);
    }
}
