using System.Net.Sockets;
using Casebook.Server.Audit;
using Microsoft.Extensions.Logging;

namespace Casebook.Server.Feeds.Hl7;

/// <summary>
/// HL7 v2 over MLLP (`serve --mllp-port Q`): reads framed messages one after another on each connection, applies each
/// (<see cref="Hl7MessageProcessor"/>) and answers one ACK per message, after the change is committed — so an AA means the
/// message is durable. A message that cannot be parsed gets an AR (when its MSH can be read at all, else an AR with our own
/// MSH); one that was understood but could not be applied gets an AE. Garbage between frames is skipped; an oversized
/// frame or an idle connection is closed. Every message is audited (sender = MSH-3@MSH-4).
/// </summary>
public sealed class MllpListener(ServerOptions options, IFeedTarget target, AuditLog audit, ILogger<MllpListener> logger)
    : FeedListener(options, options.MllpPort ?? 0, logger)
{
    readonly Hl7MessageProcessor _processor = new(target);
    protected override string Name => "MLLP";

    protected override async Task ServeAsync(TcpClient client, string remote, CancellationToken ct)
    {
        var stream = client.GetStream();
        var reader = new MllpReader(stream, Options.MaxHl7MessageBytes);
        while (!ct.IsCancellationRequested)
        {
            byte[]? bytes;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                idle.CancelAfter(Options.FeedIdleTimeout);
                try { bytes = await reader.ReadAsync(idle.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return; } // idle: close quietly
                catch (InvalidDataException e)
                {
                    audit.Append("hl7:unknown", "feed", "hl7.reject", "mllp frame", remote, "rejected", e.Message);
                    return;
                }
            }
            if (bytes == null) return;
            var ack = await Handle(bytes, remote, ct);
            using var write = CancellationTokenSource.CreateLinkedTokenSource(ct);
            write.CancelAfter(Options.FeedIdleTimeout); // a sender that stops reading its ACKs is dropped, not waited for
            try { await MllpWriteAsync(stream, ack, write.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return; }
        }
    }

    static Task MllpWriteAsync(NetworkStream stream, byte[] ack, CancellationToken ct) => MllpReader.WriteAsync(stream, ack, ct);

    async Task<byte[]> Handle(byte[] bytes, string remote, CancellationToken ct)
    {
        Hl7Message? message = null;
        try
        {
            message = Hl7Message.Parse(bytes);
            var outcome = await _processor.ProcessAsync(message, ct);
            audit.Append("hl7:" + message.Sender, "feed", outcome.Action, outcome.Target, remote, "success", outcome.Text);
            return Hl7Acknowledgement.Build(message, outcome.Code, outcome.Text, null, Options.AeTitle);
        }
        catch (Hl7Exception e)
        {
            var code = e.Reject ? Hl7Acknowledgement.Reject : Hl7Acknowledgement.Error;
            audit.Append("hl7:" + (message?.Sender ?? "unknown"), "feed", ActionOf(message), TargetOf(message), remote, e.Reject ? "rejected" : "error", e.Message);
            return Hl7Acknowledgement.Build(message, code, e.Message, e.ErrorCode, Options.AeTitle);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The engine refused it (bad data) or failed: AE, and the sender may resend; nothing half-applied was committed.
            var reason = e is ArgumentException or InvalidDataException or IOException ? e.Message : "internal error";
            if (reason == "internal error") logger.LogError(e, "HL7 message from {Remote} failed", remote);
            audit.Append("hl7:" + (message?.Sender ?? "unknown"), "feed", ActionOf(message), TargetOf(message), remote, "error", reason);
            return Hl7Acknowledgement.Build(message, Hl7Acknowledgement.Error, reason, Hl7Exception.ApplicationError, Options.AeTitle);
        }
    }

    static string ActionOf(Hl7Message? m) => m == null ? "hl7.reject" : (m.MessageType, m.TriggerEvent) switch
    {
        ("ORU", "R01") => "hl7.oru", ("ADT", "A08") => "hl7.adt.a08", ("ADT", "A40") => "hl7.adt.a40", _ => "hl7.reject",
    };

    static string TargetOf(Hl7Message? m) => m == null ? "hl7 (unreadable)" : $"hl7 {m.MessageType}^{m.TriggerEvent} {m.ControlId}";
}
