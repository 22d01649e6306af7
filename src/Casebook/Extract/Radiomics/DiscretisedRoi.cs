namespace Casebook.Extract.Radiomics;

/// <summary>
/// The region of interest after IBSI image processing and discretisation: what the texture families (GLCM, GLRLM,
/// GLSZM, GLDZM, NGTDM, NGLDM) read. The grid is the (possibly interpolated) image grid cropped to the ROI's
/// bounding box. <see cref="Levels"/> is stored x fastest (<c>index = x + Nx·(y + Ny·z)</c>); a voxel inside the
/// intensity mask holds its grey level 1..<see cref="LevelCount"/>, a voxel outside holds 0.
/// </summary>
public sealed class DiscretisedRoi
{
    public int Nx { get; init; }
    public int Ny { get; init; }
    public int Nz { get; init; }

    /// <summary>Voxel size along x, y, z in mm (after interpolation).</summary>
    public double[] Spacing { get; init; } = [1, 1, 1];

    /// <summary>Grey levels, x fastest; 1..LevelCount inside the intensity mask, 0 outside.</summary>
    public int[] Levels { get; init; } = [];

    /// <summary>
    /// Number of grey levels Ng the texture matrices span: the bin count for a fixed bin number; for a fixed bin size
    /// the highest bin that the re-segmentation range (or else the ROI's maximum) falls in.
    /// </summary>
    public int LevelCount { get; init; }

    /// <summary>
    /// The morphological ROI mask on the same grid (true = inside), when it differs from the intensity mask (after
    /// re-segmentation). The GLDZM takes its distances to the ROI edge from it (IBSI: "the distance map is determined
    /// using the morphological ROI mask"), so the grid should then be cropped to this mask's bounding box. Null: the
    /// intensity mask (voxels with a level) serves as both.
    /// </summary>
    public bool[]? MorphologicalMask { get; init; }

    public int Index(int x, int y, int z) => x + Nx * (y + Ny * z);
}
