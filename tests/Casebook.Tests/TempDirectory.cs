namespace Casebook.Tests;

/// <summary>A scratch directory removed after the test; also gives a per-test pseudonym key file.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "casebook-test-" + Guid.NewGuid().ToString("N")[..12]);
    public TempDirectory() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public string KeyFile => this["patient.key"];
    public CasebookDb OpenDb(string name = "db") => CasebookDb.Open(this[name], new CasebookOptions { KeyFile = KeyFile, Author = "test" });
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
