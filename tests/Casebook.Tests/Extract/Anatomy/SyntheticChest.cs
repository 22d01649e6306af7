using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Anatomy;

/// <summary>
/// A synthetic chest: an elliptic body of soft tissue with two aerated lungs and a spine, lying on a couch, in air,
/// with seeded noise. The construction masks are the ground truth.
/// </summary>
public sealed class SyntheticChest
{
    public const int Nx = 120, Ny = 100, Nz = 30;
    public readonly ImageVolume Ct;
    public readonly bool[] Body = new bool[Nx * Ny * Nz], PatientLeftLung = new bool[Nx * Ny * Nz], PatientRightLung = new bool[Nx * Ny * Nz], Spine = new bool[Nx * Ny * Nz], Couch = new bool[Nx * Ny * Nz];

    public SyntheticChest()
    {
        var random = new Random(7);
        var voxels = new float[Nx * Ny * Nz];
        static bool InEllipse(int x, int y, double cx, double cy, double rx, double ry) => Math.Pow((x - cx) / rx, 2) + Math.Pow((y - cy) / ry, 2) <= 1;
        for (var z = 0; z < Nz; z++)
            for (var y = 0; y < Ny; y++)
                for (var x = 0; x < Nx; x++)
                {
                    var i = x + Nx * (y + Ny * z);
                    float hu = -1000 + random.Next(-10, 11);
                    if (y >= 90 && y <= 93 && x >= 10 && x <= 110) { hu = 100 + random.Next(-20, 21); Couch[i] = true; }
                    if (InEllipse(x, y, 60, 45, 50, 35))
                    {
                        Body[i] = true;
                        hu = 40 + random.Next(-20, 21);
                        var inLungs = z >= 3 && z <= 26;
                        // Image x grows towards the patient's left in LPS, so the lung at x = 82 is the left lung.
                        if (inLungs && InEllipse(x, y, 82, 42, 16, 18)) { PatientLeftLung[i] = true; hu = -850 + random.Next(-30, 31); }
                        else if (inLungs && InEllipse(x, y, 38, 42, 16, 18)) { PatientRightLung[i] = true; hu = -850 + random.Next(-30, 31); }
                        else if (InEllipse(x, y, 60, 70, 6, 6)) { Spine[i] = true; hu = 700 + random.Next(-50, 51); }
                    }
                    voxels[i] = hu;
                }
        Ct = new ImageVolume(Nx, Ny, Nz, [1.5, 1.5, 3], [-90, -75, 0], ImageVolume.Identity, voxels);
    }
}

