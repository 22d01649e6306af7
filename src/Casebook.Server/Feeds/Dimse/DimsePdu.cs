using System.Buffers.Binary;
using System.Text;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>PS3.8 §9.3: upper-layer PDU types.</summary>
public static class PduType
{
    public const byte AssociateRq = 0x01, AssociateAc = 0x02, AssociateRj = 0x03, PData = 0x04, ReleaseRq = 0x05, ReleaseRp = 0x06, Abort = 0x07;
}

/// <summary>One received PDU: its type and its variable part (after the 6-byte header).</summary>
public sealed record Pdu(byte Type, byte[] Body);

/// <summary>A peer that broke the protocol: the association is aborted (A-ABORT, PS3.8 §9.3.8 reason) and the connection closed.</summary>
public sealed class DimseProtocolException(string message, byte abortReason = 0) : Exception(message)
{
    // PS3.8 Table 9-26, source 2 (service provider) reasons.
    public const byte NotSpecified = 0, UnrecognizedPdu = 1, UnexpectedPdu = 2, UnrecognizedPduParameter = 4, UnexpectedPduParameter = 5, InvalidPduParameter = 6;
    public byte AbortReason { get; } = abortReason;
}

/// <summary>Reads and writes upper-layer PDUs with explicit bounds (a length past the limit aborts before anything is allocated).</summary>
public static class DimsePduIo
{
    /// <summary>The next PDU, or null when the peer closed the connection cleanly between PDUs.</summary>
    public static async Task<Pdu?> ReadAsync(Stream stream, int maxBodyBytes, CancellationToken ct)
    {
        var header = new byte[6];
        var first = await stream.ReadAsync(header.AsMemory(0, 1), ct);
        if (first == 0) return null;
        await stream.ReadExactlyAsync(header.AsMemory(1, 5), ct);
        var type = header[0];
        if (type is < PduType.AssociateRq or > PduType.Abort) throw new DimseProtocolException($"unknown PDU type 0x{type:X2}", DimseProtocolException.UnrecognizedPdu);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        if (length > (uint)maxBodyBytes) throw new DimseProtocolException($"PDU of {length} bytes exceeds the limit of {maxBodyBytes}", DimseProtocolException.InvalidPduParameter);
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, ct);
        return new Pdu(type, body);
    }

    public static byte[] Frame(byte type, ReadOnlySpan<byte> body)
    {
        var pdu = new byte[6 + body.Length];
        pdu[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)body.Length);
        body.CopyTo(pdu.AsSpan(6));
        return pdu;
    }

    /// <summary>A-ASSOCIATE-RJ (PS3.8 §9.3.4): result 1 permanent / 2 transient, source, reason.</summary>
    public static byte[] Reject(byte result, byte source, byte reason) => Frame(PduType.AssociateRj, [0, result, source, reason]);

    /// <summary>A-ABORT (PS3.8 §9.3.8) from the service provider (source 2) with a reason, or the user (source 0).</summary>
    public static byte[] Abort(byte source, byte reason) => Frame(PduType.Abort, [0, 0, source, reason]);

    public static byte[] ReleaseRp() => Frame(PduType.ReleaseRp, [0, 0, 0, 0]);

    /// <summary>
    /// P-DATA-TF PDUs carrying one message part (command or dataset) on a presentation context, split into PDVs that fit the
    /// peer's maximum PDU length (PS3.8 §9.3.5, Annex E: message control header bit 0 = command, bit 1 = last fragment).
    /// </summary>
    public static IEnumerable<byte[]> PData(byte contextId, ReadOnlyMemory<byte> data, bool command, int peerMaxPdu)
    {
        // PDV item: 4-byte length, context id, control header; then the fragment. Whole PDU body = PDV item.
        var maxFragment = peerMaxPdu <= 0 ? data.Length : Math.Max(1, peerMaxPdu - 6);
        var offset = 0;
        do
        {
            var n = Math.Min(maxFragment, data.Length - offset);
            var last = offset + n >= data.Length;
            var body = new byte[6 + n];
            BinaryPrimitives.WriteUInt32BigEndian(body, (uint)(n + 2));
            body[4] = contextId;
            body[5] = (byte)((command ? 1 : 0) | (last ? 2 : 0));
            data.Span.Slice(offset, n).CopyTo(body.AsSpan(6));
            yield return Frame(PduType.PData, body);
            offset += n;
        } while (offset < data.Length);
    }

    /// <summary>A UID or AE title from bytes: trailing NUL and space padding removed.</summary>
    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes).TrimEnd('\0', ' ').TrimStart(' ');
}
