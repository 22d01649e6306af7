using Casebook.Extract.Anatomy;
using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Anatomy;

public class CtRuleMasksTests
{
    internal static double Dice(BinaryMask found, bool[] truth)
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
