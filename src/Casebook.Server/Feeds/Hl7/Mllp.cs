namespace Casebook.Server.Feeds.Hl7;

/// <summary>
/// MLLP framing (HL7 v2 Transport Specification, MLLP release 2 block format): &lt;VT 0x0B&gt; message &lt;FS 0x1C&gt;&lt;CR 0x0D&gt;.
/// Bytes outside a frame are skipped (garbage between frames does not kill the connection); a start byte inside a frame
/// restarts it (the sender gave up on the partial one); a frame over the size limit is an error that closes the connection.
/// </summary>
public sealed class MllpReader(Stream stream, int maxMessageBytes)
{
    public const byte StartBlock = 0x0B, EndBlock = 0x1C, CarriageReturn = 0x0D;
    readonly byte[] _buffer = new byte[8192];
    int _start, _end;

    /// <summary>Bytes skipped outside frames so far (garbage).</summary>
    public long SkippedBytes { get; private set; }

    /// <summary>The next message's bytes (without framing), or null at end of stream. Throws <see cref="InvalidDataException"/> past the limit.</summary>
    public async Task<byte[]?> ReadAsync(CancellationToken ct)
    {
        MemoryStream? frame = null;
        var sawEnd = false;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buffer, ct);
                if (_end == 0) { SkippedBytes += frame?.Length ?? 0; return null; } // a partial frame at EOF is dropped
            }
            var b = _buffer[_start++];
            if (frame == null)
            {
                if (b == StartBlock) frame = new MemoryStream();
                else SkippedBytes++;
                continue;
            }
            if (sawEnd)
            {
                if (b == CarriageReturn) return frame.ToArray();
                // FS not followed by CR: keep both as data (strictly a framing error; tolerated).
                frame.WriteByte(EndBlock);
                sawEnd = false;
            }
            if (b == EndBlock) { sawEnd = true; continue; }
            if (b == StartBlock) { SkippedBytes += frame.Length; frame.SetLength(0); continue; }
            frame.WriteByte(b);
            if (frame.Length > maxMessageBytes) throw new InvalidDataException($"an MLLP frame exceeds the limit of {maxMessageBytes} bytes");
        }
    }

    public static async Task WriteAsync(Stream stream, byte[] message, CancellationToken ct)
    {
        var framed = new byte[message.Length + 3];
        framed[0] = StartBlock;
        message.CopyTo(framed, 1);
        framed[^2] = EndBlock;
        framed[^1] = CarriageReturn;
        await stream.WriteAsync(framed, ct);
        await stream.FlushAsync(ct);
    }
}
