namespace Casebook.Extract.Radiomics.Texture;

/// <summary>The six IBSI-1 texture families (manual chapter "Image features").</summary>
[Flags]
public enum TextureFamilies
{
    None = 0,
    /// <summary>Grey level co-occurrence matrix (IBSI LFYI).</summary>
    Glcm = 1,
    /// <summary>Grey level run length matrix (TP0I).</summary>
    Glrlm = 2,
    /// <summary>Grey level size zone matrix (9SAK).</summary>
    Glszm = 4,
    /// <summary>Grey level distance zone matrix (VMDZ).</summary>
    Gldzm = 8,
    /// <summary>Neighbourhood grey tone difference matrix (IPET).</summary>
    Ngtdm = 16,
    /// <summary>Neighbouring grey level dependence matrix (REK0).</summary>
    Ngldm = 32,
    All = Glcm | Glrlm | Glszm | Gldzm | Ngtdm | Ngldm,
}

/// <summary>
/// What <see cref="TextureFeatures.Compute"/> calculates. The defaults are the IBSI-1 benchmark settings: every family,
/// 2D, 2.5D and 3D aggregation, GLCM distance δ=1 with symmetric co-occurrence (M = M₊ + M₊ᵀ), NGTDM and NGLDM
/// neighbourhoods of Chebyshev distance 1, NGLDM coarseness α=0, GLDZM distances in the Manhattan norm,
/// taken from <see cref="DiscretisedRoi.MorphologicalMask"/> when the ROI carries one.
/// </summary>
public sealed record TextureSettings
{
    public TextureFamilies Families { get; init; } = TextureFamilies.All;

    /// <summary>Slice-wise (axial, z) aggregations: the IBSI "2D" and "2.5D" methods. CT configurations A and B use these.</summary>
    public bool Slicewise { get; init; } = true;

    /// <summary>Volumetric aggregations: the IBSI "3D" methods. CT configurations C–E use these.</summary>
    public bool Volumetric { get; init; } = true;

    /// <summary>GLCM neighbour distance δ (Chebyshev): direction vectors are multiplied by δ.</summary>
    public int GlcmDistance { get; init; } = 1;

    /// <summary>NGTDM neighbourhood radius δ (Chebyshev).</summary>
    public int NgtdmDistance { get; init; } = 1;

    /// <summary>NGLDM neighbourhood radius δ (Chebyshev).</summary>
    public int NgldmDistance { get; init; } = 1;

    /// <summary>NGLDM coarseness α: neighbours whose grey levels differ by at most α are dependent.</summary>
    public int NgldmCoarseness { get; init; }

    public static TextureSettings Default { get; } = new();
}
