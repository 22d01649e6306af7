namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// IBSI-1 texture features of a discretised ROI: GLCM, GLRLM, GLSZM, GLDZM, NGTDM and NGLDM with the manual's
/// aggregation methods. Keys are the manual's feature tags with the aggregation appended, e.g.
/// <c>cm_joint_max_d1_2d_avg</c>, <c>cm_joint_max_d1_3d_v_mrg</c>, <c>rlm_sre_2.5d_d_mrg</c>, <c>szm_sze_2.5d</c>,
/// <c>dzm_sde_3d</c>, <c>ngt_coarseness_2d</c>, <c>ngl_lde_d1_a0.0_3d</c>. Slice-wise aggregations take axial (z)
/// slices. A value is NaN where the ROI defines none (e.g. co-occurrences of a single voxel).
/// </summary>
public static class TextureFeatures
{
    public static IReadOnlyDictionary<string, double> Compute(DiscretisedRoi roi, TextureSettings? settings = null)
    {
        settings ??= TextureSettings.Default;
        Validate(roi, settings);
        var output = new Dictionary<string, double>(StringComparer.Ordinal);
        var families = settings.Families;
        if (families.HasFlag(TextureFamilies.Glcm)) Glcm.Compute(roi, settings, output);
        if (families.HasFlag(TextureFamilies.Glrlm)) Glrlm.Compute(roi, settings, output);
        if ((families & (TextureFamilies.Glszm | TextureFamilies.Gldzm)) != 0) ZoneFamilies.Compute(roi, settings, output);
        if (families.HasFlag(TextureFamilies.Ngtdm)) Ngtdm.Compute(roi, settings, output);
        if (families.HasFlag(TextureFamilies.Ngldm)) Ngldm.Compute(roi, settings, output);
        return output;
    }

    /// <summary>
    /// The texture hook of <c>Radiomics.Compute</c> (the <c>radiomics</c> verb passes it):
    /// a 2D configuration (A, B: in-plane interpolation) gets the slice-wise aggregations only, as in the manual's
    /// benchmark; a 3D one (dig, C–E) gets all of them, its 3D values being the ones the manual lists for C–E.
    /// </summary>
    public static IReadOnlyDictionary<string, double> ForRadiomics(DiscretisedRoi roi, RadiomicsSettings settings) =>
        Compute(roi, new TextureSettings { Volumetric = !settings.TwoDimensional });

    static void Validate(DiscretisedRoi roi, TextureSettings settings)
    {
        if (roi.Nx <= 0 || roi.Ny <= 0 || roi.Nz <= 0)
            throw new ArgumentException($"texture: ROI grid must be non-empty, got {roi.Nx}×{roi.Ny}×{roi.Nz}");
        if ((long)roi.Nx * roi.Ny * roi.Nz != roi.Levels.Length)
            throw new ArgumentException($"texture: {roi.Levels.Length} levels do not fill the {roi.Nx}×{roi.Ny}×{roi.Nz} grid");
        if (roi.LevelCount < 1)
            throw new ArgumentException($"texture: LevelCount must be at least 1, got {roi.LevelCount}");
        for (var i = 0; i < roi.Levels.Length; i++)
            if ((uint)roi.Levels[i] > (uint)roi.LevelCount)
                throw new ArgumentException($"texture: voxel {i} has grey level {roi.Levels[i]}, outside 0..{roi.LevelCount}");
        if (roi.MorphologicalMask != null && roi.MorphologicalMask.Length != roi.Levels.Length)
            throw new ArgumentException($"texture: morphological mask has {roi.MorphologicalMask.Length} voxels, the ROI grid {roi.Levels.Length}");
        if (settings.GlcmDistance < 1 || settings.NgtdmDistance < 1 || settings.NgldmDistance < 1)
            throw new ArgumentException("texture: neighbour distances must be at least 1");
        if (settings.NgldmCoarseness < 0)
            throw new ArgumentException($"texture: NGLDM coarseness must be non-negative, got {settings.NgldmCoarseness}");
    }
}
