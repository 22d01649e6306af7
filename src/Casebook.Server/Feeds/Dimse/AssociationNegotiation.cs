using System.Buffers.Binary;
using System.Text;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>One proposed presentation context (PS3.8 §9.3.2.2) and, after negotiation, its result and transfer syntax.</summary>
public sealed record PresentationContext(byte Id, string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes)
{
    /// <summary>PS3.8 Table 9-18: 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported.</summary>
    public byte Result { get; set; } = 2;
    public string? AcceptedTransferSyntax { get; set; }
}

/// <summary>An A-ASSOCIATE-RQ as read: AE titles, application context, presentation contexts, the peer's maximum PDU length.</summary>
public sealed class AssociationRequest
{
    public required string CalledAe { get; init; }
    public required string CallingAe { get; init; }
    public string ApplicationContext { get; set; } = "";
    public List<PresentationContext> Contexts { get; } = new();
    /// <summary>The largest P-DATA-TF PDU the peer receives (0 = unlimited).</summary>
    public int PeerMaxPdu { get; set; }
    public string? PeerImplementationClass { get; set; }
    internal byte[] CalledCallingRaw { get; init; } = [];
}

/// <summary>
/// A-ASSOCIATE negotiation for Casebook's SCP (PS3.7 Annex D, PS3.8 §9.3.2–9.3.4): accepts the DICOM application context,
/// Verification and every Storage SOP Class (UIDs under 1.2.840.10008.5.1.4.1.1, PS3.4 Annex B) with the first proposed
/// transfer syntax the engine's reader decodes; refuses other abstract syntaxes per context (result 3) and contexts with no
/// readable transfer syntax (result 4). Whole associations are rejected for a wrong called AE title (when checked), an
/// unknown calling AE title (when a list is set) or another application context.
/// </summary>
public static class AssociationNegotiation
{
    public const string ApplicationContext = "1.2.840.10008.3.1.1.1";
    public const string Verification = "1.2.840.10008.1.1";
    const string StoragePrefix = "1.2.840.10008.5.1.4.1.1.";
    /// <summary>Casebook's implementation class UID (a 2.25 UUID-derived UID, PS3.5 §B.2) and version name.</summary>
    public const string ImplementationClassUid = "2.25.112360579842815242684499691102757483060", ImplementationVersion = "CASEBOOK_1";

    /// <summary>Transfer syntaxes the reader and pixel decoders handle (Extract/Dicom, Extract/Dicom/Pixels).</summary>
    public static readonly IReadOnlySet<string> SupportedTransferSyntaxes = new HashSet<string>
    {
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.5",
    };

    public static bool IsStorage(string sopClass) => sopClass.StartsWith(StoragePrefix, StringComparison.Ordinal);

    public static AssociationRequest Parse(byte[] body)
    {
        if (body.Length < 68) throw new DimseProtocolException($"A-ASSOCIATE-RQ of {body.Length} bytes is shorter than its fixed part (68)", DimseProtocolException.InvalidPduParameter);
        var request = new AssociationRequest
        {
            CalledAe = DimsePduIo.Text(body.AsSpan(4, 16)),
            CallingAe = DimsePduIo.Text(body.AsSpan(20, 16)),
            CalledCallingRaw = body[4..36],
        };
        foreach (var (type, value) in Items(body, 68, 2))
        {
            switch (type)
            {
                case 0x10: request.ApplicationContext = DimsePduIo.Text(value); break;
                case 0x20:
                {
                    if (value.Length < 4) throw new DimseProtocolException("presentation context item shorter than 4 bytes", DimseProtocolException.InvalidPduParameter);
                    string? abstractSyntax = null;
                    var syntaxes = new List<string>();
                    foreach (var (sub, v) in Items(value, 4, 2))
                        if (sub == 0x30) abstractSyntax = DimsePduIo.Text(v);
                        else if (sub == 0x40) syntaxes.Add(DimsePduIo.Text(v));
                    request.Contexts.Add(new PresentationContext(value[0], abstractSyntax ?? "", syntaxes));
                    break;
                }
                case 0x50:
                    foreach (var (sub, v) in Items(value, 0, 2))
                        if (sub == 0x51 && v.Length == 4) request.PeerMaxPdu = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(v));
                        else if (sub == 0x52) request.PeerImplementationClass = DimsePduIo.Text(v);
                    break;
            }
        }
        return request;
    }

    /// <summary>Items of a variable field: 1-byte type, 1 reserved, 2-byte big-endian length, value (bounds-checked).</summary>
    static IEnumerable<(byte Type, byte[] Value)> Items(byte[] data, int offset, int lengthBytes)
    {
        while (offset < data.Length)
        {
            if (offset + 4 > data.Length) throw new DimseProtocolException("an item header runs past the end of its PDU", DimseProtocolException.InvalidPduParameter);
            var type = data[offset];
            var length = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(offset + 2));
            if (offset + 4 + length > data.Length) throw new DimseProtocolException($"item 0x{type:X2} of {length} bytes runs past the end of its PDU", DimseProtocolException.InvalidPduParameter);
            yield return (type, data[(offset + 4)..(offset + 4 + length)]);
            offset += 4 + length;
        }
    }

    /// <summary>Decides each context: the peer's first proposed transfer syntax that is supported wins (its preference order).</summary>
    public static void Negotiate(AssociationRequest request)
    {
        foreach (var pc in request.Contexts)
        {
            if (pc.AbstractSyntax != Verification && !IsStorage(pc.AbstractSyntax)) { pc.Result = 3; continue; }
            var ts = pc.TransferSyntaxes.FirstOrDefault(SupportedTransferSyntaxes.Contains);
            if (ts == null) { pc.Result = 4; continue; }
            pc.Result = 0;
            pc.AcceptedTransferSyntax = ts;
        }
    }

    /// <summary>A-ASSOCIATE-AC (PS3.8 §9.3.3) for a negotiated request, announcing our maximum PDU length.</summary>
    public static byte[] Accept(AssociationRequest request, int maxPdu)
    {
        var body = new MemoryStream();
        body.Write([0x00, 0x01, 0, 0]); // protocol version 1, reserved
        body.Write(request.CalledCallingRaw); // echoed (reserved in the AC, but peers compare them)
        body.Write(new byte[32]);
        WriteItem(body, 0x10, Encoding.ASCII.GetBytes(ApplicationContext));
        foreach (var pc in request.Contexts)
        {
            var ts = Encoding.ASCII.GetBytes(pc.AcceptedTransferSyntax ?? pc.TransferSyntaxes.FirstOrDefault() ?? "1.2.840.10008.1.2");
            var value = new MemoryStream();
            value.Write([pc.Id, 0, pc.Result, 0]);
            WriteItem(value, 0x40, ts);
            WriteItem(body, 0x21, value.ToArray());
        }
        var user = new MemoryStream();
        var max = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(max, (uint)maxPdu);
        WriteItem(user, 0x51, max);
        WriteItem(user, 0x52, Encoding.ASCII.GetBytes(ImplementationClassUid));
        WriteItem(user, 0x55, Encoding.ASCII.GetBytes(ImplementationVersion));
        WriteItem(body, 0x50, user.ToArray());
        return DimsePduIo.Frame(PduType.AssociateAc, body.ToArray());
    }

    static void WriteItem(Stream s, byte type, byte[] value)
    {
        Span<byte> h = [type, 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)value.Length);
        s.Write(h);
        s.Write(value);
    }
}
