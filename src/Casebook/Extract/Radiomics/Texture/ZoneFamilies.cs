namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// The GLSZM (IBSI 9SAK) and GLDZM (VMDZ) families. Both count the same zones, by size or by distance to the ROI edge,
/// and aggregate three ways: 2D (per-slice features averaged, 8QNN), 2.5D (slice matrices merged, 62GR), 3D (KOBO).
/// </summary>
internal static class ZoneFamilies
{
    public static readonly string[] SizeNames =
    [
        "sze", "lze", "lgze", "hgze", "szlge", "szhge", "lzlge", "lzhge", "glnu", "glnu_norm", "zsnu", "zsnu_norm",
        "z_perc", "gl_var", "zs_var", "zs_entr",
    ];

    public static readonly string[] DistanceNames =
    [
        "sde", "lde", "lgze", "hgze", "sdlge", "sdhge", "ldlge", "ldhge", "glnu", "glnu_norm", "zdnu", "zdnu_norm",
        "z_perc", "gl_var", "zd_var", "zd_entr",
    ];

    public static void Compute(DiscretisedRoi roi, TextureSettings settings, IDictionary<string, double> output)
    {
        var ng = roi.LevelCount;
        var sizes = settings.Families.HasFlag(TextureFamilies.Glszm);
        var distances = settings.Families.HasFlag(TextureFamilies.Gldzm);
        if (settings.Slicewise)
        {
            var sizeSlices = new List<LevelCountMatrix>();
            var distanceSlices = new List<LevelCountMatrix>();
            for (var z = 0; z < roi.Nz; z++)
            {
                var grid = RoiGrid.Slice(roi, z);
                var zones = Zones.Label(grid);
                if (zones.VoxelCount == 0) continue;
                if (sizes) sizeSlices.Add(zones.SizeMatrix());
                if (distances)
                    distanceSlices.Add(zones.DistanceMatrix(Zones.DistanceMap(grid, roi.MorphologicalMask, inPlane: true)));
            }
            if (sizes) EmitSlicewise(output, "szm_{0}_", SizeNames, sizeSlices, ng);
            if (distances) EmitSlicewise(output, "dzm_{0}_", DistanceNames, distanceSlices, ng);
        }
        if (settings.Volumetric)
        {
            var grid = RoiGrid.Volume(roi);
            var zones = Zones.Label(grid);
            if (sizes) Aggregate.Emit(output, "szm_{0}_", "3d", SizeNames, zones.SizeMatrix().Features(ng, false));
            if (distances)
            {
                var map = Zones.DistanceMap(grid, roi.MorphologicalMask, inPlane: false);
                Aggregate.Emit(output, "dzm_{0}_", "3d", DistanceNames, zones.DistanceMatrix(map).Features(ng, false));
            }
        }
    }

    /// <summary>2D: features of each slice's matrix averaged; 2.5D: features of the slice matrices merged.</summary>
    internal static void EmitSlicewise(IDictionary<string, double> output, string prefix, string[] names,
        List<LevelCountMatrix> slices, int ng, bool withEnergy = false)
    {
        Aggregate.Emit(output, prefix, "2d", names, Aggregate.Mean(slices.Select(m => m.Features(ng, withEnergy)).ToList()));
        Aggregate.Emit(output, prefix, "2.5d", names,
            slices.Count > 0 ? LevelCountMatrix.Merge(slices).Features(ng, withEnergy) : []);
    }
}
