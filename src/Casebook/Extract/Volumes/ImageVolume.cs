namespace Casebook.Extract.Volumes;

/// <summary>
/// A 3-D image or mask on a regular grid: what NIfTI files, DICOM series and segmentations become before regions and
/// radiomics are computed. Voxels are stored x fastest (<c>index = x + Nx·(y + Ny·z)</c>). Geometry is in DICOM patient
/// coordinates (LPS, millimetres) whatever the source, so a NIfTI mask and a DICOM series of the same scan line up.
/// </summary>
public sealed class ImageVolume
{
    public ImageVolume(int nx, int ny, int nz, double[] spacing, double[] origin, double[] direction, float[] voxels)
    {
        if (nx <= 0 || ny <= 0 || nz <= 0) throw new ArgumentException($"volume dimensions must be positive, got {nx}×{ny}×{nz}");
        if (spacing.Length != 3 || origin.Length != 3 || direction.Length != 9) throw new ArgumentException("spacing and origin need 3 values, direction 9");
        if ((long)nx * ny * nz != voxels.Length) throw new ArgumentException($"{voxels.Length} voxels do not fill {nx}×{ny}×{nz}");
        Nx = nx; Ny = ny; Nz = nz; Spacing = spacing; Origin = origin; Direction = direction; Voxels = voxels;
    }

    public int Nx { get; }
    public int Ny { get; }
    public int Nz { get; }
    public int Count => Voxels.Length;

    /// <summary>Voxel size along x, y, z in mm (always positive).</summary>
    public double[] Spacing { get; }

    /// <summary>Patient (LPS) position in mm of the centre of voxel (0,0,0).</summary>
    public double[] Origin { get; }

    /// <summary>Row-major 3×3: column c is the unit LPS direction of grid axis c (x, y, z).</summary>
    public double[] Direction { get; }

    public float[] Voxels { get; }

    public int Index(int x, int y, int z) => x + Nx * (y + Ny * z);

    public float this[int x, int y, int z]
    {
        get => Voxels[Index(x, y, z)];
        set => Voxels[Index(x, y, z)] = value;
    }

    /// <summary>Patient (LPS, mm) coordinates of a (possibly fractional) voxel position.</summary>
    public double[] ToPatient(double x, double y, double z)
    {
        var d = Direction;
        double sx = x * Spacing[0], sy = y * Spacing[1], sz = z * Spacing[2];
        return
        [
            Origin[0] + d[0] * sx + d[1] * sy + d[2] * sz,
            Origin[1] + d[3] * sx + d[4] * sy + d[5] * sz,
            Origin[2] + d[6] * sx + d[7] * sy + d[8] * sz,
        ];
    }

    /// <summary>Fractional voxel position of a patient (LPS, mm) point; the inverse of <see cref="ToPatient"/>.</summary>
    public double[] ToVoxel(double px, double py, double pz)
    {
        // Direction is orthonormal for every source we read, so its inverse is its transpose.
        var d = Direction;
        double rx = px - Origin[0], ry = py - Origin[1], rz = pz - Origin[2];
        return
        [
            (d[0] * rx + d[3] * ry + d[6] * rz) / Spacing[0],
            (d[1] * rx + d[4] * ry + d[7] * rz) / Spacing[1],
            (d[2] * rx + d[5] * ry + d[8] * rz) / Spacing[2],
        ];
    }

    /// <summary>True when the other volume has the same grid (dimensions, spacing, origin, direction within 1e-3 mm).</summary>
    public bool SameGrid(ImageVolume other, double tolerance = 1e-3)
    {
        if (Nx != other.Nx || Ny != other.Ny || Nz != other.Nz) return false;
        for (var i = 0; i < 3; i++)
            if (Math.Abs(Spacing[i] - other.Spacing[i]) > tolerance || Math.Abs(Origin[i] - other.Origin[i]) > tolerance) return false;
        for (var i = 0; i < 9; i++)
            if (Math.Abs(Direction[i] - other.Direction[i]) > tolerance) return false;
        return true;
    }

    /// <summary>An empty volume (all zeros) on the same grid, e.g. for a mask.</summary>
    public ImageVolume EmptyLike() =>
        new(Nx, Ny, Nz, (double[])Spacing.Clone(), (double[])Origin.Clone(), (double[])Direction.Clone(), new float[Count]);

    public static double[] Identity => [1, 0, 0, 0, 1, 0, 0, 0, 1];
}
