namespace Casebook.Extract.Dicom;

/// <summary>A data element tag (group, element), PS3.5 §7.1. Ordered as an unsigned 32-bit number.</summary>
public readonly record struct DicomTag(uint Value) : IComparable<DicomTag>
{
    public DicomTag(ushort group, ushort element) : this(((uint)group << 16) | element) { }

    public ushort Group => (ushort)(Value >> 16);
    public ushort Element => (ushort)Value;
    /// <summary>PS3.5 §7.8.1: odd groups (other than 0001, 0003, 0005, 0007, FFFF) are private.</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 0x0007 && Group != 0xFFFF;
    /// <summary>PS3.5 §7.8.1: (gggg,0010-00FF) in a private group reserve a block for a private creator.</summary>
    public bool IsPrivateCreator => IsPrivate && Element >= 0x0010 && Element <= 0x00FF;
    /// <summary>PS3.5 §7.2: (gggg,0000) group length.</summary>
    public bool IsGroupLength => Element == 0x0000;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);
    public override string ToString() => $"({Group:X4},{Element:X4})";

    public static bool TryParse(string s, out DicomTag tag)
    {
        tag = default;
        var t = s.Trim().Trim('(', ')').Replace(",", "");
        if (t.Length != 8 || !uint.TryParse(t, System.Globalization.NumberStyles.HexNumber, null, out var v)) return false;
        tag = new DicomTag(v);
        return true;
    }

    // Tags the reader itself needs.
    public static readonly DicomTag FileMetaInformationGroupLength = new(0x00020000);
    public static readonly DicomTag MediaStorageSOPClassUID = new(0x00020002);
    public static readonly DicomTag MediaStorageSOPInstanceUID = new(0x00020003);
    public static readonly DicomTag TransferSyntaxUID = new(0x00020010);
    public static readonly DicomTag SpecificCharacterSet = new(0x00080005);
    public static readonly DicomTag SOPClassUID = new(0x00080016);
    public static readonly DicomTag SOPInstanceUID = new(0x00080018);
    public static readonly DicomTag Modality = new(0x00080060);
    public static readonly DicomTag PatientID = new(0x00100020);
    public static readonly DicomTag StudyInstanceUID = new(0x0020000D);
    public static readonly DicomTag SeriesInstanceUID = new(0x0020000E);
    public static readonly DicomTag SeriesNumber = new(0x00200011);
    public static readonly DicomTag InstanceNumber = new(0x00200013);
    public static readonly DicomTag ImagePositionPatient = new(0x00200032);
    public static readonly DicomTag ImageOrientationPatient = new(0x00200037);
    public static readonly DicomTag SamplesPerPixel = new(0x00280002);
    public static readonly DicomTag NumberOfFrames = new(0x00280008);
    public static readonly DicomTag Rows = new(0x00280010);
    public static readonly DicomTag Columns = new(0x00280011);
    public static readonly DicomTag BitsAllocated = new(0x00280100);
    public static readonly DicomTag PixelRepresentation = new(0x00280103);
    public static readonly DicomTag LUTDescriptor = new(0x00283002);
    public static readonly DicomTag ExtendedOffsetTable = new(0x7FE00001);
    public static readonly DicomTag ExtendedOffsetTableLengths = new(0x7FE00002);
    public static readonly DicomTag FloatPixelData = new(0x7FE00008);
    public static readonly DicomTag DoubleFloatPixelData = new(0x7FE00009);
    public static readonly DicomTag PixelData = new(0x7FE00010);
    public static readonly DicomTag Item = new(0xFFFEE000);
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFEE00D);
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFEE0DD);
    // DICOMDIR (PS3.3 F.3)
    public static readonly DicomTag DirectoryRecordSequence = new(0x00041220);
    public static readonly DicomTag DirectoryRecordType = new(0x00041430);
    public static readonly DicomTag ReferencedFileID = new(0x00041500);
    public static readonly DicomTag ReferencedTransferSyntaxUIDInFile = new(0x00041512);
}
