using System.Buffers.Binary;
using Casebook.Server.Audit;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>
/// One association on one connection, as the SCP runs it (PS3.8 §9.2 state machine, reduced to what an acceptor sees):
/// A-ASSOCIATE-RQ within the ARTIM timeout → AC or RJ; then P-DATA-TF (C-ECHO, C-STORE; PDV fragments reassembled per
/// command and dataset), A-RELEASE-RQ → RP, or A-ABORT. Anything else, a PDU past the limit, or silence past the idle timeout
/// aborts the association and closes the connection — a broken peer never holds a task. Received instances are spooled
/// (<see cref="DicomSpool"/>) and ingested as one batch when the association ends.
/// </summary>
public sealed class DimseAssociation(Stream stream, string remote, ServerOptions options, DicomSpool spool, AuditLog audit)
{
    AssociationRequest? _request;
    string? _folder;
    int _stored, _failed, _echoes, _sequence;

    // The message being received: its command bytes, the parsed command, and the dataset being written to the spool.
    MemoryStream? _command;
    DimseCommand? _pending;
    byte _pendingContext;
    FileStream? _dataset;
    string? _partPath;
    long _datasetBytes;
    string? _datasetProblem;

    public async Task RunAsync(CancellationToken ct)
    {
        string outcome = "aborted", detail = "";
        try
        {
            var first = await Read(options.ArtimTimeout, ct);
            if (first == null) { outcome = "closed"; return; }
            if (first.Type != PduType.AssociateRq) throw new DimseProtocolException($"expected A-ASSOCIATE-RQ, got PDU type 0x{first.Type:X2}", DimseProtocolException.UnexpectedPdu);
            _request = AssociationNegotiation.Parse(first.Body);
            if (Refusal(_request) is { } refusal)
            {
                await Send(DimsePduIo.Reject(1, refusal.Source, refusal.Reason), ct);
                outcome = "rejected"; detail = refusal.Why;
                await Linger(ct);
                return;
            }
            AssociationNegotiation.Negotiate(_request);
            await Send(AssociationNegotiation.Accept(_request, options.MaxPduLength), ct);
            (outcome, detail) = await Serve(ct);
        }
        catch (DimseProtocolException e)
        {
            detail = e.Message;
            await TrySend(DimsePduIo.Abort(2, e.AbortReason));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            detail = "idle timeout";
            await TrySend(DimsePduIo.Abort(2, DimseProtocolException.NotSpecified));
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException)
        {
            detail = "connection lost: " + e.Message;
        }
        finally
        {
            AbandonDataset();
            // Everything acknowledged is ingested, whichever way the association ended.
            if (_folder != null) spool.Enqueue(_folder, _request?.CallingAe ?? "", remote);
            if (_request != null || outcome != "closed")
                audit.Append("ae:" + (_request?.CallingAe ?? "unknown"), "feed", "dimse.association",
                    $"{_request?.CallingAe ?? "?"} -> {_request?.CalledAe ?? "?"}", remote, outcome,
                    $"{_stored} stored, {_failed} failed, {_echoes} echoes" + (detail.Length > 0 ? "; " + detail : ""));
        }
    }

    (byte Source, byte Reason, string Why)? Refusal(AssociationRequest r)
    {
        // PS3.8 Table 9-21: source 1 (service user) reasons 2 application context, 3 calling AE, 7 called AE not recognized.
        if (r.ApplicationContext != AssociationNegotiation.ApplicationContext) return (1, 2, $"application context '{r.ApplicationContext}' is not DICOM's");
        if (options.CheckCalledAe && !string.Equals(r.CalledAe, options.AeTitle, StringComparison.Ordinal)) return (1, 7, $"called AE title '{r.CalledAe}' is not '{options.AeTitle}'");
        if (options.AllowedCallingAes is { Count: > 0 } allowed && !allowed.Contains(r.CallingAe)) return (1, 3, $"calling AE title '{r.CallingAe}' is not allowed");
        return null;
    }

    async Task<(string Outcome, string Detail)> Serve(CancellationToken ct)
    {
        while (true)
        {
            var pdu = await Read(options.FeedIdleTimeout, ct) ?? throw new EndOfStreamException("the peer closed the connection without releasing");
            switch (pdu.Type)
            {
                case PduType.PData: await OnPData(pdu.Body, ct); break;
                case PduType.ReleaseRq:
                    if (_pending != null) throw new DimseProtocolException("A-RELEASE-RQ in the middle of a message", DimseProtocolException.UnexpectedPdu);
                    await Send(DimsePduIo.ReleaseRp(), ct);
                    await Linger(ct);
                    return ("released", "");
                case PduType.Abort: return ("aborted", "by the peer");
                default: throw new DimseProtocolException($"unexpected PDU type 0x{pdu.Type:X2} during the association", DimseProtocolException.UnexpectedPdu);
            }
        }
    }

    /// <summary>After RJ or RP the peer closes; wait for that (bounded by ARTIM) instead of cutting it off mid-read.</summary>
    async Task Linger(CancellationToken ct)
    {
        using var t = CancellationTokenSource.CreateLinkedTokenSource(ct);
        t.CancelAfter(options.ArtimTimeout);
        try { var buffer = new byte[256]; while (await stream.ReadAsync(buffer, t.Token) > 0) { } }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    async Task OnPData(byte[] body, CancellationToken ct)
    {
        var offset = 0;
        while (offset < body.Length)
        {
            if (offset + 6 > body.Length) throw new DimseProtocolException("a PDV header runs past the end of its P-DATA-TF", DimseProtocolException.InvalidPduParameter);
            var length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset));
            if (length < 2 || length > body.Length - offset - 4) throw new DimseProtocolException($"PDV length {length} does not fit its P-DATA-TF", DimseProtocolException.InvalidPduParameter);
            var context = body[offset + 4];
            var control = body[offset + 5];
            var fragment = body.AsMemory(offset + 6, (int)length - 2);
            offset += 4 + (int)length;
            var pc = _request!.Contexts.FirstOrDefault(c => c.Id == context && c.Result == 0)
                ?? throw new DimseProtocolException($"PDV on presentation context {context}, which was not accepted", DimseProtocolException.InvalidPduParameter);
            bool isCommand = (control & 1) != 0, last = (control & 2) != 0;
            if (isCommand) await OnCommandFragment(pc, fragment, last, ct);
            else await OnDatasetFragment(pc, fragment, last, ct);
        }
    }

    async Task OnCommandFragment(PresentationContext pc, ReadOnlyMemory<byte> fragment, bool last, CancellationToken ct)
    {
        if (_pending != null) throw new DimseProtocolException("a command fragment arrived while a dataset was expected", DimseProtocolException.UnexpectedPduParameter);
        _command ??= new MemoryStream();
        if (_command.Length + fragment.Length > 1 << 20) throw new DimseProtocolException("command set larger than 1 MiB", DimseProtocolException.InvalidPduParameter);
        _command.Write(fragment.Span);
        if (!last) return;
        var command = DimseCommand.Parse(_command.ToArray());
        _command = null;
        if (!command.HasDataset) { await Answer(pc, command, ct); return; }
        _pending = command;
        _pendingContext = pc.Id;
        if (command.CommandField == DimseCommand.CStoreRq) BeginDataset(pc, command);
        else _datasetProblem = "unsupported"; // its dataset is read and dropped
    }

    void BeginDataset(PresentationContext pc, DimseCommand command)
    {
        _folder ??= spool.NewAssociationFolder();
        _datasetBytes = 0;
        _datasetProblem = null;
        var n = ++_sequence;
        _partPath = Path.Combine(_folder, $"{n:D6}.part");
        try
        {
            _dataset = new FileStream(_partPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _dataset.Write(Part10Writer.Header(command.AffectedSopClass, command.AffectedSopInstance, pc.AcceptedTransferSyntax!, _request!.CallingAe));
        }
        catch (IOException e) { _datasetProblem = "spool write failed: " + e.Message; AbandonDataset(); }
    }

    async Task OnDatasetFragment(PresentationContext pc, ReadOnlyMemory<byte> fragment, bool last, CancellationToken ct)
    {
        if (_pending == null || pc.Id != _pendingContext) throw new DimseProtocolException("a dataset fragment arrived without its command", DimseProtocolException.UnexpectedPduParameter);
        _datasetBytes += fragment.Length;
        if (_dataset != null)
        {
            if (_datasetBytes > options.MaxDicomInstanceBytes) { _datasetProblem = $"instance larger than the limit of {options.MaxDicomInstanceBytes} bytes"; AbandonDataset(); }
            else
            {
                try { await _dataset.WriteAsync(fragment, ct); }
                catch (IOException e) { _datasetProblem = "spool write failed: " + e.Message; AbandonDataset(); }
            }
        }
        if (!last) return;
        var command = _pending;
        _pending = null;
        if (command.CommandField != DimseCommand.CStoreRq) { await Answer(pc, command, ct); return; }
        await Send(Response(pc, FinishStore(command)), ct);
    }

    /// <summary>The C-STORE-RSP for a complete dataset: success only once the instance is durable in the spool.</summary>
    DimseCommand FinishStore(DimseCommand command)
    {
        if (_dataset == null)
        {
            _failed++;
            var status = _datasetProblem?.StartsWith("instance larger", StringComparison.Ordinal) == true || _datasetProblem?.StartsWith("spool", StringComparison.Ordinal) == true
                ? DimseCommand.OutOfResources : DimseCommand.ProcessingFailure;
            return DimseCommand.ResponseTo(command, status, _datasetProblem ?? "not stored");
        }
        var part = _partPath!;
        var final = Path.ChangeExtension(part, ".dcm");
        try { DicomSpool.Commit(_dataset, part, final); }
        catch (IOException e) { _dataset = null; TryDelete(part); _failed++; return DimseCommand.ResponseTo(command, DimseCommand.OutOfResources, "spool write failed: " + e.Message); }
        _dataset = null;
        if (DicomSpool.Problem(final, command.AffectedSopInstance) is { } problem)
        {
            TryDelete(final);
            _failed++;
            return DimseCommand.ResponseTo(command, DimseCommand.CannotUnderstand, problem);
        }
        _stored++;
        return DimseCommand.ResponseTo(command, DimseCommand.Success);
    }

    async Task Answer(PresentationContext pc, DimseCommand command, CancellationToken ct)
    {
        if (command.CommandField == DimseCommand.CEchoRq) { _echoes++; await Send(Response(pc, DimseCommand.ResponseTo(command, DimseCommand.Success)), ct); return; }
        if (command.CommandField == DimseCommand.CStoreRq) { _failed++; await Send(Response(pc, DimseCommand.ResponseTo(command, DimseCommand.CannotUnderstand, "C-STORE-RQ without a dataset")), ct); return; }
        // PS3.7 §C.4.3: an operation this SCP does not offer.
        await Send(Response(pc, DimseCommand.ResponseTo(command, DimseCommand.UnrecognizedOperation, "only C-ECHO and C-STORE are supported")), ct);
    }

    async Task Send(IEnumerable<byte[]> pdus, CancellationToken ct)
    {
        foreach (var p in pdus) await Send(p, ct);
    }

    IEnumerable<byte[]> Response(PresentationContext pc, DimseCommand response) =>
        DimsePduIo.PData(pc.Id, response.Encode(), command: true, _request!.PeerMaxPdu);

    /// <summary>Writes are bounded by the idle timeout too: a peer that stops reading cannot hold the association open.</summary>
    async Task Send(byte[] pdu, CancellationToken ct)
    {
        using var t = CancellationTokenSource.CreateLinkedTokenSource(ct);
        t.CancelAfter(options.FeedIdleTimeout);
        await stream.WriteAsync(pdu, t.Token);
        await stream.FlushAsync(t.Token);
    }

    async Task TrySend(byte[] pdu)
    {
        try
        {
            using var t = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await stream.WriteAsync(pdu, t.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException) { }
    }

    async Task<Pdu?> Read(TimeSpan timeout, CancellationToken ct)
    {
        using var t = CancellationTokenSource.CreateLinkedTokenSource(ct);
        t.CancelAfter(timeout);
        // Our announced maximum bounds P-DATA; association PDUs get room for many contexts.
        return await DimsePduIo.ReadAsync(stream, Math.Max(options.MaxPduLength, 1 << 20), t.Token);
    }

    void AbandonDataset()
    {
        if (_dataset == null) return;
        _dataset.Dispose();
        _dataset = null;
        if (_partPath != null) TryDelete(_partPath);
    }

    static void TryDelete(string path) { try { File.Delete(path); } catch (IOException) { } }
}
