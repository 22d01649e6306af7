using Casebook.Extract.Anatomy;
using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Anatomy;

public class CtRuleMasksTests
{
    /// <summary>
    /// A synthetic chest: an elliptic body of soft tissue with two aerated lungs and a spine, lying on a couch, in air,
    /// with seeded noise. The construction masks are the ground truth.
    /// </summary>
    sealed class SyntheticChest
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

    static double Dice(BinaryMask found, bool[] truth)
    {
        int both = 0, a = 0, b = 0;
        for (var i = 0; i < truth.Length; i++) { if (found.Bits[i]) a++; if (truth[i]) b++; if (found.Bits[i] && truth[i]) both++; }
        return 2.0 * both / (a + b);
    }

    [Fact]
    public void Synthetic_chest_yields_body_lungs_by_side_and_bone_matching_the_construction()
    {
        var chest = new SyntheticChest();
        var structures = CtRuleMasks.Compute(chest.Ct).ToDictionary(s => s.Name);
        Assert.Equal(["body", "bone", "left lung", "right lung"], structures.Keys.Order());

        Assert.True(Dice(structures["body"].Mask, chest.Body) > 0.99, "body outline");
        Assert.DoesNotContain(Enumerable.Range(0, chest.Couch.Length), i => chest.Couch[i] && structures["body"].Mask.Bits[i]);
        Assert.True(Dice(structures["left lung"].Mask, chest.PatientLeftLung) > 0.98, "left lung");
        Assert.True(Dice(structures["right lung"].Mask, chest.PatientRightLung) > 0.98, "right lung");
        Assert.True(Dice(structures["bone"].Mask, chest.Spine) > 0.97, "spine");

        var voxelMl = 1.5 * 1.5 * 3 / 1000;
        Assert.Equal(chest.PatientLeftLung.Count(b => b) * voxelMl, structures["left lung"].VolumeMl, 0.02 * structures["left lung"].VolumeMl);
        Assert.InRange(structures["left lung"].MeanHu, -880, -820);
        Assert.InRange(structures["bone"].MeanHu, 650, 750);
    }

    [Fact]
    public void Ibsi_ct_phantom_lung_tumour_lies_in_the_body_and_outside_the_aerated_lung()
    {
        var ct = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/image/phantom.nii.gz"));
        var tumour = BinaryMask.FromVolume(NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/mask/mask.nii.gz")));
        var structures = CtRuleMasks.Compute(ct);
        var body = structures.Single(s => s.Name == "body");
        var bone = structures.Single(s => s.Name == "bone");
        // The phantom is cropped at the patient's side, so its aerated lung is one structure without a side.
        var lung = structures.Single(s => s.Name == "lung");

        Assert.InRange(lung.MeanHu, -1000, -600);
        Assert.InRange(bone.MeanHu, 300, 1500);
        var tumourVoxels = tumour.Count();
        Assert.True(tumour.And(body.Mask).Count() >= 0.95 * tumourVoxels, "the tumour is inside the body outline");
        // The contoured tumour includes some aerated lung at its rim (IBSI re-segments it away); the lung mask may claim
        // only those voxels, never the tumour's solid tissue, and it borders the tumour.
        var aeratedTumour = Enumerable.Range(0, ct.Count).Count(i => tumour.Bits[i] && ct.Voxels[i] < -400);
        Assert.InRange(tumour.And(lung.Mask).Count(), 1, aeratedTumour);
        Assert.True(aeratedTumour < 0.15 * tumourVoxels);
        // Deterministic: the same input gives the same masks.
        var again = CtRuleMasks.Compute(ct);
        Assert.Equal(structures.Select(s => (s.Name, s.VoxelCount)), again.Select(s => (s.Name, s.VoxelCount)));
    }
}
