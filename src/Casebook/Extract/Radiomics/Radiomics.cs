using Casebook.Extract.Volumes;

namespace Casebook.Extract.Radiomics;

/// <summary>
/// IBSI 1 radiomics of one region: image processing per <see cref="RadiomicsSettings"/>, then the morphology, local
/// intensity, intensity statistics, intensity histogram and intensity-volume histogram families. Texture families
/// plug in through <c>texture</c>, which receives the discretised ROI. Keys are the IBSI labels of the reference CSV.
/// </summary>
public static class Radiomics
{
    public static IReadOnlyDictionary<string, double> Compute(
        ImageVolume image, ImageVolume mask, RadiomicsSettings settings,
        Func<DiscretisedRoi, RadiomicsSettings, IReadOnlyDictionary<string, double>>? texture = null)
    {
        var roi = ImageProcessing.Process(image, mask, settings);
        return Compute(roi, settings, texture);
    }

    public static IReadOnlyDictionary<string, double> Compute(
        ProcessedRoi roi, RadiomicsSettings settings,
        Func<DiscretisedRoi, RadiomicsSettings, IReadOnlyDictionary<string, double>>? texture = null)
    {
        var f = new Dictionary<string, double>();
        MorphologyFeatures.Compute(roi, f);
        LocalIntensityFeatures.Compute(roi, settings.LocalPeakRadiusMm, f);
        var x = roi.IntensityValues();
        IntensityFeatures.Statistics(x, f);
        var (levels, levelCount) = Discretisation.Apply(x, settings);
        IntensityFeatures.Histogram(levels, levelCount, f);
        IntensityFeatures.VolumeHistogram(x, settings, f);
        if (texture != null)
            foreach (var (k, v) in texture(Discretise(roi, levels, levelCount), settings)) f[k] = v;
        return f;
    }

    /// <summary>The discretised ROI cropped to the morphological mask's bounding box, for the texture families.</summary>
    public static DiscretisedRoi Discretise(ImageVolume image, ImageVolume mask, RadiomicsSettings settings)
    {
        var roi = ImageProcessing.Process(image, mask, settings);
        var (levels, count) = Discretisation.Apply(roi.IntensityValues(), settings);
        return Discretise(roi, levels, count);
    }

    static DiscretisedRoi Discretise(ProcessedRoi roi, int[] levels, int levelCount)
    {
        // Cropped to the morphological mask, which contains the intensity mask: the GLDZM measures distances to its edge.
        int nx = roi.Nx, ny = roi.Ny, nz = roi.Nz;
        int x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
        var differ = false;
        for (var z = 0; z < nz; z++)
        for (var y = 0; y < ny; y++)
        for (var x = 0; x < nx; x++)
        {
            var i = x + nx * (y + ny * z);
            differ |= roi.MorphMask[i] != roi.IntensityMask[i];
            if (roi.MorphMask[i] || roi.IntensityMask[i])
            {
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
            }
        }
        if (x1 < 0) x0 = y0 = z0 = x1 = y1 = z1 = 0;
        int bx = x1 - x0 + 1, by = y1 - y0 + 1, bz = z1 - z0 + 1;
        var out_ = new int[bx * by * bz];
        var morph = differ ? new bool[out_.Length] : null;
        // levels[] follows grid order of the intensity-mask voxels (as IntensityValues lists them).
        var k = 0;
        for (var z = z0; z <= z1; z++)
        for (var y = y0; y <= y1; y++)
        for (var x = x0; x <= x1; x++)
        {
            var i = x + nx * (y + ny * z);
            var o = (x - x0) + bx * ((y - y0) + by * (z - z0));
            if (roi.IntensityMask[i]) out_[o] = levels[k++];
            if (morph != null) morph[o] = roi.MorphMask[i];
        }
        return new DiscretisedRoi
        {
            Nx = bx, Ny = by, Nz = bz, Spacing = (double[])roi.Spacing.Clone(), Levels = out_, LevelCount = levelCount,
            MorphologicalMask = morph,
        };
    }
}
