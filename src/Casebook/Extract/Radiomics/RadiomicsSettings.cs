namespace Casebook.Extract.Radiomics;

public enum InterpolationMethod { None, Linear, Cubic }

public enum DiscretisationMethod { FixedBinSize, FixedBinNumber }

/// <summary>How intensities are discretised for the intensity-volume histogram (IBSI 1, section "Intensity-volume histogram").</summary>
public enum IvhMode
{
    /// <summary>Calibrated, discrete intensities (CT in HU): no discretisation, interval 1.</summary>
    Discrete,
    /// <summary>Calibrated, continuous intensities: fixed bin size, bins replaced by their centres.</summary>
    FixedBinSize,
    /// <summary>Arbitrary units: fixed bin number, levels 1..N.</summary>
    FixedBinNumber,
}

/// <summary>
/// The IBSI 1 image-processing parameters: interpolation, re-segmentation and discretisation. <see cref="Preset"/> gives
/// the digital phantom (<c>dig</c>) and the five CT-phantom configurations A–E of the IBSI reference manual.
/// </summary>
public sealed record RadiomicsSettings
{
    public string Name { get; init; } = "custom";

    /// <summary>2D approach: interpolate in-plane only (texture, when plugged in, is per slice).</summary>
    public bool TwoDimensional { get; init; }

    /// <summary>Target voxel spacing in mm (x, y, z); null means no interpolation. For 2D only x and y are used.</summary>
    public double[]? Spacing { get; init; }

    public InterpolationMethod ImageInterpolation { get; init; } = InterpolationMethod.Linear;

    /// <summary>Round intensities to the nearest integer after loading and after interpolation (CT in HU).</summary>
    public bool RoundIntensities { get; init; }

    /// <summary>Interpolated mask values at or above this fraction are inside the ROI.</summary>
    public double PartialVolumeThreshold { get; init; } = 0.5;

    /// <summary>Re-segmentation range [min, max] of the intensity mask; either bound may be null (open).</summary>
    public double? RangeMin { get; init; }
    public double? RangeMax { get; init; }

    /// <summary>Remove intensity-mask voxels outside mean ± 3 standard deviations (after the range).</summary>
    public bool OutlierFilter { get; init; }

    public DiscretisationMethod Discretisation { get; init; } = DiscretisationMethod.FixedBinNumber;

    /// <summary>Bin width for a fixed bin size, or the number of bins for a fixed bin number.</summary>
    public double DiscretisationValue { get; init; } = 32;

    public IvhMode Ivh { get; init; } = IvhMode.Discrete;

    /// <summary>Bin width (fixed bin size) or bin count (fixed bin number) for the IVH; unused for <see cref="IvhMode.Discrete"/>.</summary>
    public double IvhValue { get; init; } = 1;

    /// <summary>Radius in mm of the sphere for local intensity peaks: that of a 1 cm³ sphere.</summary>
    public double LocalPeakRadiusMm { get; init; } = 10 * Math.Cbrt(3 / (4 * Math.PI));

    public static IReadOnlyList<string> PresetNames { get; } = ["dig", "A", "B", "C", "D", "E"];

    /// <summary>IBSI 1 reference configurations (table "configurations" of the benchmark chapter).</summary>
    public static RadiomicsSettings Preset(string name) => name switch
    {
        // The digital phantom is used as is: a fixed bin size of 1 from its minimum leaves its grey levels unchanged.
        "dig" => new() { Name = "dig", Discretisation = DiscretisationMethod.FixedBinSize, DiscretisationValue = 1 },
        "A" => new()
        {
            Name = "A", TwoDimensional = true, RoundIntensities = true, RangeMin = -500, RangeMax = 400,
            Discretisation = DiscretisationMethod.FixedBinSize, DiscretisationValue = 25,
        },
        "B" => new()
        {
            Name = "B", TwoDimensional = true, Spacing = [2, 2, 0], ImageInterpolation = InterpolationMethod.Linear, RoundIntensities = true,
            RangeMin = -500, RangeMax = 400, Discretisation = DiscretisationMethod.FixedBinNumber, DiscretisationValue = 32,
        },
        "C" => new()
        {
            Name = "C", Spacing = [2, 2, 2], ImageInterpolation = InterpolationMethod.Linear, RoundIntensities = true,
            RangeMin = -1000, RangeMax = 400, Discretisation = DiscretisationMethod.FixedBinSize, DiscretisationValue = 25,
            Ivh = IvhMode.FixedBinSize, IvhValue = 2.5,
        },
        "D" => new()
        {
            Name = "D", Spacing = [2, 2, 2], ImageInterpolation = InterpolationMethod.Linear, RoundIntensities = true,
            OutlierFilter = true, Discretisation = DiscretisationMethod.FixedBinNumber, DiscretisationValue = 32,
        },
        "E" => new()
        {
            Name = "E", Spacing = [2, 2, 2], ImageInterpolation = InterpolationMethod.Cubic, RoundIntensities = true,
            // The benchmark table in some manual versions prints [-500, 400] for E, but the E reference values (range
            // 1090 HU, negative mean) need [-1000, 400], the range of the published IBSI 1 configuration E.
            RangeMin = -1000, RangeMax = 400, OutlierFilter = true, Discretisation = DiscretisationMethod.FixedBinNumber, DiscretisationValue = 32,
            Ivh = IvhMode.FixedBinNumber, IvhValue = 1000,
        },
        _ => throw new ArgumentException($"unknown radiomics configuration '{name}' (expected {string.Join(", ", PresetNames)})"),
    };
}
