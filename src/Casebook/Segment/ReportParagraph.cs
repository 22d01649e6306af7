namespace Casebook.Segment;

/// <summary>
/// A paragraph of a report or note, in its section. <see cref="Text"/> is exactly
/// <c>original.Substring(CharStart, CharEnd - CharStart)</c> (a trimmed span, never rewritten), so a hit can
/// be highlighted in the source document.
/// </summary>
public sealed record ReportParagraph(string Section, string Text, int CharStart, int CharEnd);

/// <summary>A section found in a report: its canonical name, where its header starts and where its content lies.</summary>
public sealed record ReportSection(string Name, int HeaderStart, int ContentStart, int ContentEnd);
