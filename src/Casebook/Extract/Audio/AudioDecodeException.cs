namespace Casebook.Extract.Audio;

/// <summary>Audio that cannot be decoded; the message names the file and the reason.</summary>
public sealed class AudioDecodeException(string file, string reason, Exception? inner = null)
    : Exception($"{Path.GetFileName(file)}: {reason}", inner)
{
    public string File { get; } = file;
}
