using System.Buffers.Binary;
using System.Text;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>
/// A DIMSE command set (PS3.7 §9.3, §E.1): group 0000 elements, always Implicit VR Little Endian. Only the fields the SCP
/// reads or writes are kept; the rest are skipped with bounds checks.
/// </summary>
public sealed class DimseCommand
{
    // PS3.7 Annex E command field values.
    public const ushort CStoreRq = 0x0001, CStoreRsp = 0x8001, CEchoRq = 0x0030, CEchoRsp = 0x8030;
    /// <summary>(0000,0800) value meaning "no dataset follows".</summary>
    public const ushort NoDataset = 0x0101;
    // PS3.4 Annex B / PS3.7 Annex C statuses.
    public const ushort Success = 0x0000, OutOfResources = 0xA700, CannotUnderstand = 0xC000, UnrecognizedOperation = 0x0211, ProcessingFailure = 0x0110;

    public string AffectedSopClass { get; set; } = "";
    public ushort CommandField { get; set; }
    public ushort MessageId { get; set; }
    public ushort MessageIdBeingRespondedTo { get; set; }
    public ushort DatasetType { get; set; } = NoDataset;
    public ushort? Status { get; set; }
    public string AffectedSopInstance { get; set; } = "";
    public string? ErrorComment { get; set; }

    public bool HasDataset => DatasetType != NoDataset;

    public static DimseCommand Parse(ReadOnlySpan<byte> data)
    {
        var c = new DimseCommand();
        var offset = 0;
        while (offset < data.Length)
        {
            if (offset + 8 > data.Length) throw new DimseProtocolException("command set: an element header runs past its end", DimseProtocolException.InvalidPduParameter);
            var group = BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]);
            var element = BinaryPrimitives.ReadUInt16LittleEndian(data[(offset + 2)..]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(data[(offset + 4)..]);
            offset += 8;
            if (group != 0x0000) throw new DimseProtocolException($"command set holds element ({group:X4},{element:X4}) outside group 0000", DimseProtocolException.InvalidPduParameter);
            if (length > (uint)(data.Length - offset)) throw new DimseProtocolException($"command element (0000,{element:X4}) of {length} bytes runs past its end", DimseProtocolException.InvalidPduParameter);
            var value = data.Slice(offset, (int)length);
            offset += (int)length;
            switch (element)
            {
                case 0x0002: c.AffectedSopClass = DimsePduIo.Text(value); break;
                case 0x0100: c.CommandField = US(value, element); break;
                case 0x0110: c.MessageId = US(value, element); break;
                case 0x0120: c.MessageIdBeingRespondedTo = US(value, element); break;
                case 0x0800: c.DatasetType = US(value, element); break;
                case 0x0900: c.Status = US(value, element); break;
                case 0x1000: c.AffectedSopInstance = DimsePduIo.Text(value); break;
                case 0x0902: c.ErrorComment = Encoding.ASCII.GetString(value).TrimEnd(' ', '\0'); break;
            }
        }
        return c;
    }

    static ushort US(ReadOnlySpan<byte> value, ushort element) => value.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(value)
        : throw new DimseProtocolException($"(0000,{element:X4}) is not a US value", DimseProtocolException.InvalidPduParameter);

    /// <summary>The response to <paramref name="request"/> (command field | 0x8000) with a status and, for failures, an error comment.</summary>
    public static DimseCommand ResponseTo(DimseCommand request, ushort status, string? errorComment = null) => new()
    {
        AffectedSopClass = request.AffectedSopClass,
        CommandField = (ushort)(request.CommandField | 0x8000),
        MessageIdBeingRespondedTo = request.MessageId,
        DatasetType = NoDataset,
        Status = status,
        AffectedSopInstance = request.AffectedSopInstance,
        // (0000,0902) is LO: at most 64 characters, no backslash.
        ErrorComment = errorComment == null ? null : Clip(errorComment.Replace('\\', '/'), 64),
    };

    static string Clip(string s, int n) => s.Length <= n ? s : s[..n];

    public byte[] Encode()
    {
        var body = new MemoryStream();
        if (AffectedSopClass.Length > 0) Put(body, 0x0002, Uid(AffectedSopClass));
        Put(body, 0x0100, U16(CommandField));
        if (CommandField < 0x8000) Put(body, 0x0110, U16(MessageId));
        else Put(body, 0x0120, U16(MessageIdBeingRespondedTo));
        Put(body, 0x0800, U16(DatasetType));
        if (Status is { } s) Put(body, 0x0900, U16(s));
        if (ErrorComment is { Length: > 0 } e) Put(body, 0x0902, Padded(Encoding.ASCII.GetBytes(e), (byte)' '));
        if (AffectedSopInstance.Length > 0) Put(body, 0x1000, Uid(AffectedSopInstance));
        var rest = body.ToArray();
        var all = new MemoryStream();
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)rest.Length);
        Put(all, 0x0000, length); // (0000,0000) CommandGroupLength: bytes after it
        all.Write(rest);
        return all.ToArray();
    }

    static byte[] U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    static byte[] Uid(string uid) => Padded(Encoding.ASCII.GetBytes(uid), 0);
    static byte[] Padded(byte[] v, byte pad) => v.Length % 2 == 0 ? v : [.. v, pad];

    static void Put(Stream s, ushort element, byte[] value)
    {
        Span<byte> h = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(h, 0x0000);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], element);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)value.Length);
        s.Write(h);
        s.Write(value);
    }
}
