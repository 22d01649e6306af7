namespace Casebook.Extract.Dicom.Pixels;

/// <summary>Pixel data that cannot be decoded: a malformed codestream, an unsupported syntax, or attributes that contradict the data.</summary>
public sealed class PixelDecodeException(string message, Exception? inner = null) : Exception(message, inner);
