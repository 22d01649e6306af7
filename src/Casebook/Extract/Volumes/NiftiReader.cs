using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Casebook.Extract.Volumes;

/// <summary>A volume file that cannot be read; the message names the file and the reason.</summary>
public sealed class VolumeFormatException(string message) : Exception(message);

/// <summary>
/// Reads NIfTI-1 and NIfTI-2 single-file images (<c>.nii</c>, <c>.nii.gz</c>), the format research data sets ship
/// volumes and masks in. Scaling (<c>scl_slope</c>/<c>scl_inter</c>) is applied. Geometry comes from the sform, else the
/// qform, else the voxel sizes, and is converted from NIfTI's RAS world to DICOM's LPS. A 4-D file yields its first volume.
/// </summary>
public static class NiftiReader
{
    /// <summary>Largest voxel count accepted (2^31 − 1 floats is the array limit anyway; 1 G voxels is already 4 GB).</summary>
    public const long MaxVoxels = 1L << 30;

    public static ImageVolume Read(string path)
    {
        byte[] bytes;
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[2];
            var n = file.Read(magic);
            file.Position = 0;
            if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                using var gz = new GZipStream(file, CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                bytes = ms.ToArray();
            }
            else bytes = File.ReadAllBytes(path);
        }
        catch (InvalidDataException e) { throw new VolumeFormatException($"{path}: broken gzip stream ({e.Message})"); }
        catch (IOException e) { throw new VolumeFormatException($"{path}: cannot read ({e.Message})"); }
        return Parse(bytes, path);
    }

    public static ImageVolume Parse(byte[] b, string name)
    {
        if (b.Length < 348) throw new VolumeFormatException($"{name}: {b.Length} bytes is too short for a NIfTI header");
        var le = BinaryPrimitives.ReadInt32LittleEndian(b);
        var be = BinaryPrimitives.ReadInt32BigEndian(b);
        var little = le is 348 or 540;
        var size = little ? le : be;
        if (size != 348 && size != 540) throw new VolumeFormatException($"{name}: not a NIfTI file (sizeof_hdr is {le}, expected 348 or 540)");
        return size == 348 ? ParseNifti1(b, name, little) : ParseNifti2(b, name, little);
    }

    static ImageVolume ParseNifti1(byte[] b, string name, bool little)
    {
        var magic = Encoding.ASCII.GetString(b, 344, 3);
        if (magic == "ni1") throw new VolumeFormatException($"{name}: a two-file NIfTI (.hdr/.img) pair; only single-file .nii is read");
        if (magic != "n+1") throw new VolumeFormatException($"{name}: bad NIfTI-1 magic '{magic}'");
        short I16(int o) => little ? BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(o));
        float F32(int o) => little ? BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadSingleBigEndian(b.AsSpan(o));
        var dim = new long[8];
        for (var i = 0; i < 8; i++) dim[i] = I16(40 + 2 * i);
        var pixdim = new double[8];
        for (var i = 0; i < 8; i++) pixdim[i] = F32(76 + 4 * i);
        var h = new Header
        {
            Dim = dim, PixDim = pixdim, DataType = I16(70), VoxOffset = (long)F32(108),
            Slope = F32(112), Intercept = F32(116), QformCode = I16(252), SformCode = I16(254),
            Quatern = [F32(256), F32(260), F32(264)], QOffset = [F32(268), F32(272), F32(276)],
            Srow = Enumerable.Range(0, 12).Select(i => (double)F32(280 + 4 * i)).ToArray(),
        };
        return Build(b, name, little, h, 348);
    }

    static ImageVolume ParseNifti2(byte[] b, string name, bool little)
    {
        if (b.Length < 540) throw new VolumeFormatException($"{name}: {b.Length} bytes is too short for a NIfTI-2 header");
        var magic = Encoding.ASCII.GetString(b, 4, 3);
        if (magic == "ni2") throw new VolumeFormatException($"{name}: a two-file NIfTI-2 (.hdr/.img) pair; only single-file .nii is read");
        if (magic != "n+2") throw new VolumeFormatException($"{name}: bad NIfTI-2 magic '{magic}'");
        short I16(int o) => little ? BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(o));
        int I32(int o) => little ? BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(o));
        long I64(int o) => little ? BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(o));
        double F64(int o) => little ? BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(o)) : BinaryPrimitives.ReadDoubleBigEndian(b.AsSpan(o));
        var h = new Header
        {
            Dim = Enumerable.Range(0, 8).Select(i => I64(16 + 8 * i)).ToArray(),
            PixDim = Enumerable.Range(0, 8).Select(i => F64(104 + 8 * i)).ToArray(),
            DataType = I16(12), VoxOffset = I64(168), Slope = F64(176), Intercept = F64(184),
            QformCode = I32(344), SformCode = I32(348),
            Quatern = [F64(352), F64(360), F64(368)], QOffset = [F64(376), F64(384), F64(392)],
            Srow = Enumerable.Range(0, 12).Select(i => F64(400 + 8 * i)).ToArray(),
        };
        return Build(b, name, little, h, 540);
    }

    sealed class Header
    {
        public required long[] Dim;
        public required double[] PixDim;
        public required short DataType;
        public required long VoxOffset;
        public required double Slope, Intercept;
        public required int QformCode, SformCode;
        public required double[] Quatern, QOffset, Srow;
    }

    static ImageVolume Build(byte[] b, string name, bool little, Header h, int headerSize)
    {
        var rank = h.Dim[0];
        if (rank is < 1 or > 7) throw new VolumeFormatException($"{name}: dim[0] = {rank} is not 1..7");
        long Extent(int i) => i <= rank ? h.Dim[i] : 1;
        long nx = Extent(1), ny = Extent(2), nz = Extent(3);
        if (nx < 1 || ny < 1 || nz < 1) throw new VolumeFormatException($"{name}: dimensions {nx}×{ny}×{nz} are not positive");
        var count = nx * ny * nz;
        if (count > MaxVoxels) throw new VolumeFormatException($"{name}: {count} voxels exceeds the limit of {MaxVoxels}");
        var (width, reader) = Sample(h.DataType, little) ?? throw new VolumeFormatException($"{name}: NIfTI datatype {h.DataType} is not supported (integer and float scalars are)");
        var offset = h.VoxOffset;
        if (offset < headerSize || offset + count * width > b.Length)
            throw new VolumeFormatException($"{name}: voxel data ({count} × {width} bytes from offset {offset}) is not within the file ({b.Length} bytes, header {headerSize})");

        var scale = h.Slope != 0 && !double.IsNaN(h.Slope) && !(h.Slope == 1 && h.Intercept == 0);
        var voxels = new float[count];
        var data = b.AsSpan((int)offset, (int)(count * width));
        for (var i = 0; i < count; i++)
        {
            var v = reader(data.Slice(i * width, width));
            voxels[i] = (float)(scale ? v * h.Slope + h.Intercept : v);
        }

        var spacing = new[] { Math.Abs(h.PixDim[1]), Math.Abs(h.PixDim[2]), Math.Abs(h.PixDim[3]) };
        for (var i = 0; i < 3; i++) if (spacing[i] == 0 || double.IsNaN(spacing[i])) spacing[i] = 1;
        var (origin, direction) = Geometry(h, spacing);
        return new ImageVolume((int)nx, (int)ny, (int)nz, spacing, origin, direction, voxels);
    }

    delegate double SampleReader(ReadOnlySpan<byte> s);

    static (int, SampleReader)? Sample(short type, bool little) => type switch
    {
        2 => (1, s => s[0]),
        256 => (1, s => (sbyte)s[0]),
        4 => (2, s => little ? BinaryPrimitives.ReadInt16LittleEndian(s) : BinaryPrimitives.ReadInt16BigEndian(s)),
        512 => (2, s => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s)),
        8 => (4, s => little ? BinaryPrimitives.ReadInt32LittleEndian(s) : BinaryPrimitives.ReadInt32BigEndian(s)),
        768 => (4, s => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s)),
        1024 => (8, s => little ? BinaryPrimitives.ReadInt64LittleEndian(s) : BinaryPrimitives.ReadInt64BigEndian(s)),
        1280 => (8, s => little ? BinaryPrimitives.ReadUInt64LittleEndian(s) : BinaryPrimitives.ReadUInt64BigEndian(s)),
        16 => (4, s => little ? BinaryPrimitives.ReadSingleLittleEndian(s) : BinaryPrimitives.ReadSingleBigEndian(s)),
        64 => (8, s => little ? BinaryPrimitives.ReadDoubleLittleEndian(s) : BinaryPrimitives.ReadDoubleBigEndian(s)),
        _ => null,
    };

    /// <summary>Origin and direction in LPS. NIfTI's world is RAS, so the x and y rows change sign.</summary>
    static (double[] Origin, double[] Direction) Geometry(Header h, double[] spacing)
    {
        double[] m; // 3×3 RAS rotation (unit columns), row-major
        double[] o;
        if (h.SformCode > 0)
        {
            var s = h.Srow;
            m = new double[9];
            for (var c = 0; c < 3; c++)
            {
                var norm = Math.Sqrt(s[c] * s[c] + s[4 + c] * s[4 + c] + s[8 + c] * s[8 + c]);
                if (norm == 0) norm = 1;
                m[c] = s[c] / norm; m[3 + c] = s[4 + c] / norm; m[6 + c] = s[8 + c] / norm;
            }
            o = [s[3], s[7], s[11]];
        }
        else if (h.QformCode > 0)
        {
            double qb = h.Quatern[0], qc = h.Quatern[1], qd = h.Quatern[2];
            var qa = Math.Sqrt(Math.Max(0, 1 - (qb * qb + qc * qc + qd * qd)));
            var qfac = h.PixDim[0] < 0 ? -1.0 : 1.0;
            m =
            [
                qa * qa + qb * qb - qc * qc - qd * qd, 2 * (qb * qc - qa * qd), qfac * 2 * (qb * qd + qa * qc),
                2 * (qb * qc + qa * qd), qa * qa + qc * qc - qb * qb - qd * qd, qfac * 2 * (qc * qd - qa * qb),
                2 * (qb * qd - qa * qc), 2 * (qc * qd + qa * qb), qfac * (qa * qa + qd * qd - qb * qb - qc * qc),
            ];
            o = [h.QOffset[0], h.QOffset[1], h.QOffset[2]];
        }
        else
        {
            m = ImageVolume.Identity;
            o = [0, 0, 0];
        }
        // RAS → LPS: negate the first two rows and the first two origin components.
        var d = (double[])m.Clone();
        for (var c = 0; c < 3; c++) { d[c] = -d[c]; d[3 + c] = -d[3 + c]; }
        return ([-o[0], -o[1], o[2]], d);
    }
}
