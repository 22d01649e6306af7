using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Volumes;

/// <summary>RTSTRUCT and SEG readers against independent references: the IBSI phantom's NIfTI mask and the SEG files' own bytes.</summary>
public class RegionReaderTests
{
    static string Phantom(string part) => SharedData.Require($"radiomics/ibsi1_ct_phantom/{part}");
    static string Highdicom(string name) => SharedData.Require($"dicom/highdicom/{name}");
    const string CtUidPrefix = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.";

    static int Count(ImageVolume mask, int z) { var n = 0; for (var y = 0; y < mask.Ny; y++) for (var x = 0; x < mask.Nx; x++) if (mask[x, y, z] > 0.5f) n++; return n; }

    [Fact]
    public void Rtstruct_rasterised_on_the_ct_series_agrees_with_the_ibsi_nifti_mask()
    {
        var series = DicomSeriesReader.Read(Phantom("dicom/image"));
        var rtstruct = RtStructReader.Read(Directory.GetFiles(Phantom("dicom/mask")).Single());
        var roi = Assert.Single(rtstruct.Rois);
        Assert.Equal("GTV-1", roi.Name);
        Assert.Equal(26, roi.Contours.Count);
        Assert.Contains(series.SeriesInstanceUid, rtstruct.ReferencedSeriesInstanceUids);
        Assert.Equal(60, rtstruct.ReferencedSopInstanceUids.Count);
        Assert.Contains(series.FrameOfReferenceUid, rtstruct.ReferencedFrameOfReferenceUids);

        var mask = RtStructReader.Rasterise(roi, series.Volume);
        var reference = NiftiReader.Read(Phantom("nifti/mask/mask.nii.gz"));
        Assert.True(mask.SameGrid(reference));
        long both = 0, ours = 0, theirs = 0;
        for (var i = 0; i < mask.Count; i++)
        {
            var a = mask.Voxels[i] > 0.5f; var b = reference.Voxels[i] > 0.5f;
            if (a) ours++; if (b) theirs++; if (a && b) both++;
        }
        var dice = 2.0 * both / (ours + theirs);
        Console.WriteLine($"RTSTRUCT vs NIfTI: Dice {dice:0.0000}, voxels {ours} vs {theirs}");
        Assert.True(dice > 0.98, $"Dice {dice:0.0000} (ours {ours}, NIfTI {theirs} voxels)");
        Assert.InRange((double)ours / theirs, 0.98, 1.02);
    }

    [Fact]
    public void Rtstruct_contour_holes_follow_the_even_odd_rule()
    {
        var grid = new ImageVolume(10, 10, 1, [1, 1, 1], [0, 0, 0], ImageVolume.Identity, new float[100]);
        double[] Square(double a, double b) => [a, a, 0, b, a, 0, b, b, 0, a, b, 0];
        var roi = new RtRoi(1, "ring", "ORGAN", null, null, null, [new RtContour(Square(0.5, 8.5), null), new RtContour(Square(2.5, 6.5), null)], 0);
        var mask = RtStructReader.Rasterise(roi, grid);
        Assert.Equal(1f, mask[1, 1, 0]);
        Assert.Equal(0f, mask[4, 4, 0]); // inside the inner contour: a hole
        Assert.Equal(0f, mask[9, 9, 0]);
        Assert.Equal(8 * 8 - 4 * 4, mask.Voxels.Count(v => v > 0));
    }

    [Fact]
    public void Binary_seg_frames_land_on_their_planes_with_their_source_instances()
    {
        var seg = SegReader.Read(Highdicom("seg_image_ct_binary.dcm"));
        Assert.Equal("BINARY", seg.SegmentationType);
        Assert.Equal(SegGeometry.Patient, seg.Geometry);
        var s = Assert.Single(seg.Segments);
        Assert.Equal("first segment", s.Label);
        Assert.Equal(new CodedConcept("85756007", "SCT", "Tissue"), s.Category);
        Assert.Equal(new CodedConcept("272673000", "SCT", "Bone"), s.Type);
        // dcmdump: frames at z = 103.02, 104.27, 105.52 (1.25 mm apart), from CT instances .94, .95, .96.
        Assert.Equal((16, 16, 3), (s.Mask.Nx, s.Mask.Ny, s.Mask.Nz));
        Assert.Equal(103.02, s.Mask.Origin[2], 0.01);
        Assert.Equal(1.25, s.Mask.Spacing[2], 0.001);
        Assert.Equal(0.488281, s.Mask.Spacing[0], 1e-6);
        Assert.Equal(["94", "95", "96"], s.ReferencedSopInstanceUids.Select(u => u[CtUidPrefix.Length..]));
        Assert.Equal(CtUidPrefix + "95", Assert.Single(s.SourceInstancesBySlice[1]));
        // Set bits per frame in the Pixel Data (dcmdump +W, counted by hand): 127, 256, 255.
        Assert.Equal([127, 256, 255], Enumerable.Range(0, 3).Select(z => Count(s.Mask, z)));
    }

    [Fact]
    public void Fractional_seg_keeps_voxels_at_or_above_half_the_maximum_value()
    {
        var seg = SegReader.Read(Highdicom("seg_image_ct_true_fractional.dcm"));
        Assert.Equal("FRACTIONAL", seg.SegmentationType);
        Assert.Equal("PROBABILITY", seg.FractionalType);
        var s = Assert.Single(seg.Segments);
        // Frame bytes (dcmdump +W): non-zero 149/256/256, ≥ 128 of 255: 127/256/255.
        Assert.Equal([127, 256, 255], Enumerable.Range(0, 3).Select(z => Count(s.Mask, z)));
    }

    [Fact]
    public void Overlapping_segments_get_one_mask_each_on_a_grid_with_empty_planes()
    {
        var seg = SegReader.Read(Highdicom("seg_image_ct_binary_overlap.dcm"));
        Assert.Equal(2, seg.Segments.Count);
        var first = seg.Segments[0].Mask;
        // Frames at -99.48 and 103.02…105.52: the grid spans them at 1.25 mm, the planes between are empty.
        Assert.Equal(-99.48, first.Origin[2], 0.01);
        Assert.Equal(165, first.Nz); // 202.5 mm / 1.25 = plane 162, then 163 and 164
        Assert.Equal(16 * 4, first.Voxels.Count(v => v > 0));
        Assert.Equal(4 * 4, seg.Segments[1].Mask.Voxels.Count(v => v > 0));
        Assert.Equal(CtUidPrefix + "93", Assert.Single(seg.Segments[1].SourceInstancesBySlice[0]));
    }

    [Fact]
    public void Projection_and_slide_segs_read_into_pixel_grids()
    {
        var cr = Assert.Single(SegReader.Read(Highdicom("seg_image_cr_binary.dcm")).Segments);
        Assert.Equal(151, cr.Mask.Voxels.Count(v => v > 0));
        var slide = SegReader.Read(Highdicom("seg_image_sm_control.dcm"));
        Assert.Equal(SegGeometry.Slide, slide.Geometry);
        Assert.Equal(20, slide.Segments.Count);
        Assert.All(slide.Segments, s => Assert.Equal((50, 50, 1), (s.Mask.Nx, s.Mask.Ny, s.Mask.Nz)));
        var labelmap = SegReader.Read(Highdicom("seg_image_sm_control_labelmap.dcm"));
        Assert.Equal("LABELMAP", labelmap.SegmentationType);
        // The label map encodes the same segments as the binary SEG of the same slide (plus a background segment).
        foreach (var s in slide.Segments)
        {
            var same = labelmap.Segments.Single(l => l.Label == s.Label);
            Assert.Equal(s.Mask.Voxels, same.Mask.Voxels);
        }
    }

    [Fact]
    public void Corrupt_seg_and_rtstruct_fail_naming_the_file()
    {
        using var dir = new TempDirectory();
        var seg = Path.Combine(dir.Path, "cut.seg.dcm");
        var bytes = File.ReadAllBytes(Highdicom("seg_image_ct_binary.dcm"));
        File.WriteAllBytes(seg, bytes[..(bytes.Length * 2 / 3)]);
        Assert.Contains("cut.seg.dcm", Assert.Throws<VolumeFormatException>(() => SegReader.Read(seg)).Message);
        var rt = Path.Combine(dir.Path, "cut.rt.dcm");
        var rtBytes = File.ReadAllBytes(Directory.GetFiles(Phantom("dicom/mask")).Single());
        File.WriteAllBytes(rt, rtBytes[..(rtBytes.Length / 2)]);
        Assert.Contains("cut.rt.dcm", Assert.Throws<VolumeFormatException>(() => RtStructReader.Read(rt)).Message);
        Assert.Contains("not an RT Structure Set", Assert.Throws<VolumeFormatException>(() => RtStructReader.Read(Highdicom("ct_image.dcm"))).Message);
        Assert.Contains("not a DICOM Segmentation", Assert.Throws<VolumeFormatException>(() => SegReader.Read(Highdicom("ct_image.dcm"))).Message);
    }
}
