namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// The discretised ROI seen through a z range: the whole volume for 3D matrices, one axial slice for 2D ones. Voxels
/// outside [Z0, Z1) are simply not there, so a 26-neighbourhood restricted to one slice is the 2D 8-neighbourhood,
/// 26-connected zones become 8-connected ones, and the 13 volumetric directions reduce to the 4 in-plane ones.
/// </summary>
internal readonly struct RoiGrid(int[] levels, int nx, int ny, int nz, int z0, int z1)
{
    public readonly int[] Levels = levels;
    public readonly int Nx = nx, Ny = ny, Nz = nz, Z0 = z0, Z1 = z1;

    public static RoiGrid Volume(DiscretisedRoi roi) => new(roi.Levels, roi.Nx, roi.Ny, roi.Nz, 0, roi.Nz);

    public static RoiGrid Slice(DiscretisedRoi roi, int z) => new(roi.Levels, roi.Nx, roi.Ny, roi.Nz, z, z + 1);

    public int Index(int x, int y, int z) => x + Nx * (y + Ny * z);

    public bool Contains(int x, int y, int z) =>
        (uint)x < (uint)Nx && (uint)y < (uint)Ny && z >= Z0 && z < Z1;

    /// <summary>
    /// The grey levels of the ROI voxels within Chebyshev distance <paramref name="delta"/> of (x, y, z), the voxel itself
    /// excluded, written to <paramref name="into"/> (at least (2δ+1)³ − 1 long); returns how many. NGTDM and NGLDM share it.
    /// </summary>
    public int NeighbourLevels(int x, int y, int z, int delta, Span<int> into)
    {
        var n = 0;
        for (var dz = -delta; dz <= delta; dz++)
        {
            var zz = z + dz;
            if (zz < Z0 || zz >= Z1) continue;
            for (var dy = -delta; dy <= delta; dy++)
            {
                var yy = y + dy;
                if ((uint)yy >= (uint)Ny) continue;
                for (var dx = -delta; dx <= delta; dx++)
                {
                    var xx = x + dx;
                    if ((uint)xx >= (uint)Nx || (dx == 0 && dy == 0 && dz == 0)) continue;
                    var b = Levels[Index(xx, yy, zz)];
                    if (b != 0) into[n++] = b;
                }
            }
        }
        return n;
    }

    public static int NeighbourhoodSize(int delta) => (2 * delta + 1) * (2 * delta + 1) * (2 * delta + 1) - 1;

    /// <summary>Number of ROI voxels (grey level above 0) in the range.</summary>
    public int VoxelCount()
    {
        var n = 0;
        var end = Nx * Ny * Z1;
        for (var i = Nx * Ny * Z0; i < end; i++) if (Levels[i] > 0) n++;
        return n;
    }

    /// <summary>
    /// The 13 unique direction vectors of the 26-neighbourhood (IBSI GLCM section), or the 4 in-plane ones of the
    /// 8-neighbourhood for slice-wise matrices, each as (x, y, z).
    /// </summary>
    public static readonly int[][] Directions3D =
    [
        [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1], [0, 1, -1], [1, 0, 1], [1, 0, -1],
        [1, 1, 0], [1, -1, 0], [1, 1, 1], [1, 1, -1], [1, -1, 1], [1, -1, -1],
    ];

    public static readonly int[][] Directions2D = [[1, 0, 0], [1, 1, 0], [0, 1, 0], [-1, 1, 0]];
}
