using Casebook.Extract.Volumes;

namespace Casebook.Extract.Radiomics;

/// <summary>Loads the image and mask a radiomics run names: NIfTI files (.nii, .nii.gz).</summary>
public static class VolumeInputs
{
    public static ImageVolume ReadImage(string path)
    {
        if (File.Exists(path) && IsNifti(path)) return NiftiReader.Read(path);
        if (Directory.Exists(path)) throw new VolumeFormatException($"{path}: a folder; DICOM series are not readable here yet, pass a NIfTI file");
        if (!File.Exists(path)) throw new VolumeFormatException($"{path}: no such file");
        return NiftiReader.Read(path);
    }

    public static ImageVolume ReadMask(string path, ImageVolume image)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new VolumeFormatException($"{path}: no such file");
        return ReadImage(path);
    }

    static bool IsNifti(string path) => path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);
}
