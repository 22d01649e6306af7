using Casebook.Extract.Volumes;

namespace Casebook.Extract.Anatomy;

/// <summary>One anatomical structure found in a volume: its mask, size and a few numbers that let a reader judge it.</summary>
public sealed record AnatomyStructure(string Name, string Source, BinaryMask Mask, int VoxelCount, double VolumeMl, double MeanHu)
{
    /// <summary>Bounding box in voxel indices (min and max inclusive), or null for an empty mask.</summary>
    public (int X0, int Y0, int Z0, int X1, int Y1, int Z1)? BoundingBox()
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, z0 = int.MaxValue, x1 = -1, y1 = -1, z1 = -1;
        for (var i = 0; i < Mask.Bits.Length; i++)
        {
            if (!Mask.Bits[i]) continue;
            int x = i % Mask.Nx, y = i / Mask.Nx % Mask.Ny, z = i / Mask.SliceSize;
            x0 = Math.Min(x0, x); y0 = Math.Min(y0, y); z0 = Math.Min(z0, z);
            x1 = Math.Max(x1, x); y1 = Math.Max(y1, y); z1 = Math.Max(z1, z);
        }
        return x1 < 0 ? null : (x0, y0, z0, x1, y1, z1);
    }
}

/// <summary>Hounsfield thresholds and size limits of the rule-based CT masks (defaults from common practice).</summary>
public sealed record CtRuleSettings
{
    /// <summary>Tissue is above this (HU); air and lung parenchyma are below.</summary>
    public float BodyThresholdHu { get; init; } = -500;
    /// <summary>Aerated lung is below this (HU) inside the body outline.</summary>
    public float LungThresholdHu { get; init; } = -400;
    /// <summary>Cortical and trabecular bone is at or above this (HU); contrast-filled vessels can reach it too.</summary>
    public float BoneThresholdHu { get; init; } = 250;
    /// <summary>An air component inside the body counts as lung from this volume (mL); bowel gas and airways are mostly smaller.</summary>
    public double MinLungMl { get; init; } = 5;
    /// <summary>Bone components below this (mL) are dropped as noise or calcification.</summary>
    public double MinBoneMl { get; init; } = 0.05;
}

/// <summary>
/// Body outline, lungs and bone from a CT volume in Hounsfield units, by thresholds, morphology and connected
/// components: deterministic, no model needed. Meant as coarse anatomy (which structures a scan shows, and their
/// volumes), not as a substitute for a trained segmentation network.
/// <list type="bullet">
/// <item>Body: tissue above −500 HU, its largest 3-D component (the couch is a separate one), holes filled slice by slice.</item>
/// <item>Lungs: below −400 HU inside each slice's convex hull of the body but outside the tissue, as 3-D components of at
/// least 5 mL; the two largest are kept and named left/right by their centre's side (patient left is +x in LPS), unless the
/// outline reaches the image's side edge (a cropped scan), when they are one "lung".</item>
/// <item>Bone: at or above 250 HU inside the body hull, components of at least 0.05 mL.</item>
/// </list>
/// Air enclosed by the filled outline is preferred; the convex hull is the fallback that keeps lungs touching the image
/// edge, as in cropped scans.
/// </summary>
public static class CtRuleMasks
{
    public const string Source = "rule";

    public static IReadOnlyList<AnatomyStructure> Compute(ImageVolume ct, CtRuleSettings? settings = null)
    {
        var s = settings ?? new CtRuleSettings();
        var voxelMl = ct.Spacing[0] * ct.Spacing[1] * ct.Spacing[2] / 1000.0;
        var tissue = BinaryMask.Threshold(ct, v => v > s.BodyThresholdHu).LargestComponent();
        var hull = tissue.ConvexHullPerSlice();
        var air = BinaryMask.Threshold(ct, v => v < s.LungThresholdHu).And(hull).AndNot(tissue);
        var minLung = Math.Max(1, (int)Math.Ceiling(s.MinLungMl / voxelMl));
        var lungComponents = air.Components();
        var body = tissue.FillHolesPerSlice();
        // Share of each air component enclosed by the filled outline: lungs of a whole-body field of view are enclosed,
        // while air between the arms and the chest wall lies in the hull but outside the outline.
        var enclosed = new int[lungComponents.Sizes.Count];
        for (var i = 0; i < body.Bits.Length; i++) if (lungComponents.Labels[i] != 0 && body.Bits[i]) enclosed[lungComponents.Labels[i]]++;
        var candidates = Enumerable.Range(1, lungComponents.Sizes.Count - 1).Where(l => lungComponents.Sizes[l] >= minLung).ToList();
        var enclosedCandidates = candidates.Where(l => enclosed[l] * 2 >= lungComponents.Sizes[l]).ToList();
        if (enclosedCandidates.Count > 0) candidates = enclosedCandidates; // else a cropped scan: the lungs reach the image edge
        var lungLabels = candidates.OrderByDescending(l => lungComponents.Sizes[l]).ThenBy(l => l).Take(2).ToList();
        var result = new List<AnatomyStructure>();
        var bodyWithLungs = body.Clone();

        var lungMasks = new List<(BinaryMask Mask, double CentreX)>();
        foreach (var label in lungLabels)
        {
            var m = new BinaryMask(ct);
            double sumX = 0;
            var n = 0;
            for (var i = 0; i < m.Bits.Length; i++)
            {
                if (lungComponents.Labels[i] != label) continue;
                m.Bits[i] = true;
                bodyWithLungs.Bits[i] = true;
                var p = ct.ToPatient(i % ct.Nx, i / ct.Nx % ct.Ny, i / (ct.Nx * ct.Ny));
                sumX += p[0];
                n++;
            }
            lungMasks.Add((m, sumX / n));
        }
        result.Add(Structure("body", bodyWithLungs, ct, voxelMl));
        if (lungMasks.Count == 2 && !TouchesSideEdge(body))
        {
            // Patient left is +x in LPS; the component whose centre lies further left is the left lung.
            var ordered = lungMasks.OrderByDescending(l => l.CentreX).ToList();
            result.Add(Structure("left lung", ordered[0].Mask, ct, voxelMl));
            result.Add(Structure("right lung", ordered[1].Mask, ct, voxelMl));
        }
        else if (lungMasks.Count > 0)
        {
            // One air space (the lungs joined at the carina), or a scan cropped at the side, where the midline is unknown
            // and two components need not be two lungs: one structure, no side.
            var union = lungMasks[0].Mask;
            foreach (var l in lungMasks.Skip(1)) union = union.Or(l.Mask);
            result.Add(Structure("lung", union, ct, voxelMl));
        }

        var minBone = Math.Max(1, (int)Math.Ceiling(s.MinBoneMl / voxelMl));
        var bone = BinaryMask.Threshold(ct, v => v >= s.BoneThresholdHu).And(hull)
            .KeepComponents(sizes => Enumerable.Range(1, sizes.Count - 1).Where(l => sizes[l] >= minBone));
        if (bone.Count() > 0) result.Add(Structure("bone", bone, ct, voxelMl));
        return result.Where(r => r.VoxelCount > 0).ToList();
    }

    /// <summary>True when the outline reaches the first or last image column: the scan is cropped at the patient's side.</summary>
    static bool TouchesSideEdge(BinaryMask body)
    {
        for (var z = 0; z < body.Nz; z++)
            for (var y = 0; y < body.Ny; y++)
            {
                var row = z * body.SliceSize + y * body.Nx;
                if (body.Bits[row] || body.Bits[row + body.Nx - 1]) return true;
            }
        return false;
    }

    static AnatomyStructure Structure(string name, BinaryMask mask, ImageVolume ct, double voxelMl)
    {
        double sum = 0;
        var n = 0;
        for (var i = 0; i < mask.Bits.Length; i++) if (mask.Bits[i]) { sum += ct.Voxels[i]; n++; }
        return new AnatomyStructure(name, Source, mask, n, n * voxelMl, n == 0 ? 0 : sum / n);
    }
}
