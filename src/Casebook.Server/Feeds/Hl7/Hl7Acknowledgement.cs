using System.Text;

namespace Casebook.Server.Feeds.Hl7;

/// <summary>
/// Original-mode acknowledgements (HL7 v2 §2.9.2): one ACK per message, sent after the message was applied (AA) or not
/// (AE: understood but not applied; AR: refused as a whole). MSA-2 echoes MSH-10; MSA-3 and ERR carry the reason.
/// </summary>
public static class Hl7Acknowledgement
{
    public const string Accept = "AA", Error = "AE", Reject = "AR";

    /// <summary>The ACK for <paramref name="message"/> (null when its MSH could not be read: then an MSH with defaults is used).</summary>
    public static byte[] Build(Hl7Message? message, string code, string text, string? errorCode, string receivingApplication)
    {
        var d = message?.Delimiters ?? Hl7Delimiters.Default;
        var msh = message?.Msh;
        string F(string s) => Hl7Message.Escape(s, d);
        var now = DateTime.UtcNow.ToString("yyyyMMddHHmmss");
        var version = msh?.Get(12) is { Length: > 0 } v ? v : "2.5";
        var trigger = msh?.Get(9, 2) ?? "";
        var processing = msh?.Raw(11) is { Length: > 0 } p ? p : "P";
        var enc = $"{d.Component}{d.Repetition}{d.Escape}{d.Subcomponent}";
        var sb = new StringBuilder();
        // Sender and receiver swap: we answer from the application the message was sent to (MSH-5/6), or our own name.
        var fromApp = msh?.Raw(5) is { Length: > 0 } a ? a : F(receivingApplication);
        sb.Append($"MSH{d.Field}{enc}{d.Field}{fromApp}{d.Field}{msh?.Raw(6)}{d.Field}{msh?.Raw(3)}{d.Field}{msh?.Raw(4)}{d.Field}{now}{d.Field}{d.Field}")
          .Append($"ACK{d.Component}{F(trigger)}{d.Component}ACK{d.Field}{F("ACK" + Guid.NewGuid().ToString("N")[..17])}{d.Field}{processing}{d.Field}{F(version)}\r");
        sb.Append($"MSA{d.Field}{code}{d.Field}{msh?.Raw(10)}{d.Field}{F(Truncate(text, 80))}\r");
        if (code != Accept)
            // ERR-3 (HL7 table 0357 code), ERR-4 severity E, ERR-8 the full user message.
            sb.Append($"ERR{d.Field}{d.Field}{d.Field}{errorCode ?? Hl7Exception.ApplicationError}{d.Component}{F(ErrorName(errorCode))}{d.Component}HL70357{d.Field}E{d.Field}{d.Field}{d.Field}{d.Field}{F(Truncate(text, 250))}\r");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";

    static string ErrorName(string? code) => code switch
    {
        Hl7Exception.SegmentSequence => "Segment sequence error",
        Hl7Exception.RequiredFieldMissing => "Required field missing",
        Hl7Exception.DataType => "Data type error",
        Hl7Exception.UnsupportedMessageType => "Unsupported message type",
        Hl7Exception.UnsupportedEvent => "Unsupported event code",
        Hl7Exception.UnsupportedVersion => "Unsupported version id",
        Hl7Exception.UnknownKey => "Unknown key identifier",
        _ => "Application internal error",
    };
}
