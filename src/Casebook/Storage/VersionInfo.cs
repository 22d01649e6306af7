namespace Casebook.Storage;

/// <summary>One commit: its number, UTC time (ISO 8601), author and message.</summary>
public sealed record VersionInfo(long Version, string Time, string Author, string Message);

/// <summary>What a commit did. <see cref="Version"/> is null when nothing changed (no version is made).</summary>
public sealed record CommitResult(long? Version, int Inserted, int Updated, int Unchanged, int Deleted);

/// <summary>Changes to apply atomically as one version.</summary>
public sealed class WriteBatch
{
    public List<Model.StudyRecord> Upserts { get; } = new();
    public List<string> Deletes { get; } = new();
    public bool IsEmpty => Upserts.Count == 0 && Deletes.Count == 0;
}

/// <summary>Thrown when the database directory cannot be opened (format too new, not a database, corrupt).</summary>
public sealed class DatabaseFormatException(string message) : Exception(message);
