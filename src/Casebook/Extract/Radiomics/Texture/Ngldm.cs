namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// Neighbouring grey level dependence matrix features (IBSI REK0). Every ROI voxel counts once, at (its level, its
/// dependence j = 1 + number of ROI neighbours within Chebyshev distance δ whose level differs by at most α); neighbours
/// outside the ROI do not add to j, so N_s = N_v. Aggregated 2D / 2.5D / 3D like the GLSZM.
/// </summary>
internal static class Ngldm
{
    public static readonly string[] Names =
    [
        "lde", "hde", "lgce", "hgce", "ldlge", "ldhge", "hdlge", "hdhge", "glnu", "glnu_norm", "dcnu", "dcnu_norm",
        "dc_perc", "gl_var", "dc_var", "dc_entr", "dc_energy",
    ];

    public static void Compute(DiscretisedRoi roi, TextureSettings settings, IDictionary<string, double> output)
    {
        var ng = roi.LevelCount;
        int delta = settings.NgldmDistance, alpha = settings.NgldmCoarseness;
        var prefix = FormattableString.Invariant($"ngl_{{0}}_d{delta}_a{alpha:0.0}_");
        if (settings.Slicewise)
        {
            var slices = new List<LevelCountMatrix>();
            for (var z = 0; z < roi.Nz; z++)
            {
                var grid = RoiGrid.Slice(roi, z);
                if (grid.VoxelCount() == 0) continue;
                slices.Add(Build(grid, delta, alpha));
            }
            ZoneFamilies.EmitSlicewise(output, prefix, Names, slices, ng, withEnergy: true);
        }
        if (settings.Volumetric)
            Aggregate.Emit(output, prefix, "3d", Names, Build(RoiGrid.Volume(roi), delta, alpha).Features(ng, true));
    }

    internal static LevelCountMatrix Build(RoiGrid g, int delta, int alpha)
    {
        var levels = g.Levels;
        var keys = new List<long>();
        Span<int> neighbours = new int[RoiGrid.NeighbourhoodSize(delta)];
        for (var z = g.Z0; z < g.Z1; z++)
            for (var y = 0; y < g.Ny; y++)
                for (var x = 0; x < g.Nx; x++)
                {
                    var a = levels[g.Index(x, y, z)];
                    if (a == 0) continue;
                    var j = 1;
                    var n = g.NeighbourLevels(x, y, z, delta, neighbours);
                    for (var k = 0; k < n; k++) if (Math.Abs(a - neighbours[k]) <= alpha) j++;
                    keys.Add(LevelCountMatrix.Key(a, j));
                }
        return LevelCountMatrix.FromItems(keys, keys.Count);
    }
}
