using System.IO.Compression;
using Casebook.Extract.Dicom;
using Xunit;

namespace Casebook.Tests.Extract.Dicom;

public class DicomCatalogTests
{
    static string DirTests => SharedData.Require("dicom/pydicom/dicomdirtests");

    [Fact]
    public void DICOMDIR_references_group_into_studies_and_series()
    {
        // pydicom sees 52 records, 31 referencing files, 6 studies and 13 series in this DICOMDIR.
        var skipped = new List<string>();
        var instances = DicomCatalog.ReadDicomDir(Path.Combine(DirTests, "DICOMDIR"), skipped);
        Assert.Empty(skipped);
        Assert.Equal(31, instances.Count);
        var studies = DicomCatalog.Group(instances);
        Assert.Equal(6, studies.Count);
        Assert.Equal(13, studies.Sum(s => s.Series.Count));
    }

    [Fact]
    public void DICOMDIR_without_offsets_falls_back_to_record_order()
    {
        var a = DicomCatalog.ReadDicomDir(Path.Combine(DirTests, "DICOMDIR")).Select(i => i.SOPInstanceUID).Order().ToList();
        var b = DicomCatalog.ReadDicomDir(Path.Combine(DirTests, "DICOMDIR-nooffset")).Select(i => i.SOPInstanceUID).Order().ToList();
        Assert.Equal(a, b);
    }

    [Fact]
    public void DICOMDIR_whose_files_are_missing_uses_the_directory_records()
    {
        var skipped = new List<string>();
        var instances = DicomCatalog.ReadDicomDir(SharedData.Require("dicom/fodicom/DICOMDIR"), skipped);
        Assert.Equal(20, instances.Count);
        Assert.Equal(20, skipped.Count);
        Assert.All(instances, i => Assert.NotNull(i.StudyInstanceUID));
        Assert.Equal(20, DicomCatalog.Group(instances).Count);
    }

    [Fact]
    public void Folder_walk_and_zip_archive_find_the_same_instances()
    {
        var folder = DicomCatalog.Enumerate(DirTests);
        Assert.DoesNotContain(folder, i => Path.GetFileName(i.Source).StartsWith("DICOMDIR")); // indexes, not instances
        var indexed = DicomCatalog.ReadDicomDir(Path.Combine(DirTests, "DICOMDIR")).Select(i => i.SOPInstanceUID).ToHashSet();
        Assert.Subset(folder.Select(i => i.SOPInstanceUID).ToHashSet(), indexed);
        var zipPath = Path.Combine(Path.GetTempPath(), $"casebook-dicom-{Guid.NewGuid():N}.zip");
        try
        {
            ZipFile.CreateFromDirectory(DirTests, zipPath);
            var skipped = new List<string>();
            var zipped = DicomCatalog.Enumerate(zipPath, skipped);
            Assert.Equal(folder.Select(i => i.SOPInstanceUID).Order(), zipped.Select(i => i.SOPInstanceUID).Order());
            Assert.All(zipped, i => Assert.Contains(".zip!", i.Source));
        }
        finally { File.Delete(zipPath); }
    }

    static DicomInstance Slice(string uid, int? number, double? z, string series = "S1") =>
        new($"f{uid}", "P", "ST", series, uid, null, "CT", 1, number, z is { } v ? [0, 0, v] : null, z is null ? null : [1, 0, 0, 0, 1, 0], 1, null);

    [Fact]
    public void Slices_are_ordered_by_position_along_the_normal_then_by_instance_number()
    {
        var byPosition = DicomCatalog.Group([Slice("a", 1, 30), Slice("b", 2, -10), Slice("c", 3, 5)]);
        Assert.Equal(["b", "c", "a"], byPosition[0].Series[0].Instances.Select(i => i.SOPInstanceUID));
        var byNumber = DicomCatalog.Group([Slice("a", 3, null), Slice("b", 1, null), Slice("c", 2, null), Slice("d", 1, null, "S2")]);
        Assert.Equal(["b", "c", "a"], byNumber[0].Series[0].Instances.Select(i => i.SOPInstanceUID));
        Assert.Equal(2, byNumber[0].Series.Count);
    }
}
