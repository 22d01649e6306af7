using System.Diagnostics;
using System.Globalization;
using System.Text;
using Casebook.Extract.Radiomics;
using Casebook.Extract.Radiomics.Texture;
using Casebook.Extract.Volumes;

namespace Casebook.Bench;

/// <summary>
/// IBSI texture families on the IBSI CT phantom ROI (shared/data/radiomics/ibsi1_ct_phantom/nifti): each family alone
/// and all six together, 3D (volumetric, configs C–E style) and slice-wise (2D + 2.5D, configs A–B style). The ROI is
/// discretised here with a fixed bin size of 25 HU over [−1000, 400] HU on the native grid; to reach the size of a
/// finely resampled ROI it is also measured after splitting every slice in three (nearest neighbour along z).
/// Medians over repeats after a warm-up; ratios are to GLCM alone in the same run, which survive machine load.
/// </summary>
public static class TextureBenchmarks
{
    const int Repeats = 5;

    public static string Run(string sharedDataDir)
    {
        var folder = Path.Combine(sharedDataDir, "radiomics", "ibsi1_ct_phantom", "nifti");
        var image = NiftiReader.Read(Path.Combine(folder, "image", "phantom.nii.gz"));
        var mask = NiftiReader.Read(Path.Combine(folder, "mask", "mask.nii.gz"));
        var native = Discretise(image, mask, 1);
        var fine = Discretise(image, mask, 3);

        var sb = new StringBuilder();
        sb.AppendLine("## Texture features (`texture` suite; issue 8)");
        sb.AppendLine();
        sb.AppendLine("Method: `TextureFeatures.Compute` on the IBSI CT phantom ROI, fixed bin size 25 HU over [−1000, 400] HU; "
            + "`native` is the 0.98×0.98×3 mm grid, `z×3` the same ROI with every slice repeated three times. "
            + $"Median of {Repeats} runs after a warm-up, one thread; ratio = time / GLCM-alone time of the same ROI and approach.");
        sb.AppendLine();
        sb.AppendLine("| ROI | voxels | levels | approach | family | median s | ratio to GLCM |");
        sb.AppendLine("|---|---:|---:|---|---|---:|---:|");
        foreach (var (name, roi) in new[] { ("native", native), ("z×3", fine) })
        {
            var voxels = roi.Levels.Count(l => l > 0);
            foreach (var (approach, slicewise) in new[] { ("3D", false), ("2D+2.5D", true) })
            {
                double glcm = 0;
                foreach (var family in new[] { TextureFamilies.Glcm, TextureFamilies.Glrlm, TextureFamilies.Glszm, TextureFamilies.Gldzm, TextureFamilies.Ngtdm, TextureFamilies.Ngldm, TextureFamilies.All })
                {
                    var settings = new TextureSettings { Families = family, Slicewise = slicewise, Volumetric = !slicewise };
                    var seconds = Median(() => TextureFeatures.Compute(roi, settings));
                    if (family == TextureFamilies.Glcm) glcm = seconds;
                    sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {name} | {voxels} | {roi.LevelCount} | {approach} | {family} | {seconds:0.000} | {seconds / glcm:0.0} |"));
                }
            }
        }
        return sb.ToString();
    }

    static double Median(Action pass)
    {
        pass();
        var t = new List<double>();
        for (var r = 0; r < Repeats; r++) { var sw = Stopwatch.StartNew(); pass(); t.Add(sw.Elapsed.TotalSeconds); }
        t.Sort();
        return t[t.Count / 2];
    }

    /// <summary>Levels 1.. by ⌊(HU + 1000) / 25⌋ + 1 for mask voxels in range, cropped to their bounding box.</summary>
    static DiscretisedRoi Discretise(ImageVolume image, ImageVolume mask, int zRepeat)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, z0 = int.MaxValue, x1 = -1, y1 = -1, z1 = -1;
        bool Inside(int i) => mask.Voxels[i] > 0.5f && image.Voxels[i] >= -1000 && image.Voxels[i] <= 400;
        for (var z = 0; z < image.Nz; z++)
            for (var y = 0; y < image.Ny; y++)
                for (var x = 0; x < image.Nx; x++)
                    if (Inside(image.Index(x, y, z)))
                    {
                        x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
                    }
        int nx = x1 - x0 + 1, ny = y1 - y0 + 1, nz = (z1 - z0 + 1) * zRepeat;
        var levels = new int[nx * ny * nz];
        for (var z = 0; z < nz; z++)
            for (var y = 0; y < ny; y++)
                for (var x = 0; x < nx; x++)
                {
                    var i = image.Index(x + x0, y + y0, z / zRepeat + z0);
                    if (Inside(i)) levels[x + nx * (y + ny * z)] = (int)Math.Floor((image.Voxels[i] + 1000) / 25) + 1;
                }
        return new DiscretisedRoi { Nx = nx, Ny = ny, Nz = nz, Levels = levels, LevelCount = Math.Max(1, levels.Max()) };
    }
}
