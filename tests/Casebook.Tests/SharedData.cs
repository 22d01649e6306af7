namespace Casebook.Tests;

/// <summary>
/// Locates ../shared/data (real public data, never copied into the repo). Tests that need it call
/// <see cref="Require"/>, which fails loudly when it is absent instead of silently passing.
/// </summary>
public static class SharedData
{
    public static string? Root { get; } = Find();

    static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("CASEBOOK_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(candidate, "SOURCES.md"))) return candidate;
        }
        return null;
    }

    /// <summary>Absolute path of a file or folder under shared/data; throws with a clear message when missing.</summary>
    public static string Require(string relative)
    {
        if (Root == null)
            throw new InvalidOperationException("../shared/data is absent: this test needs the shared real-data folder (set CASEBOOK_SHARED_DATA or run beside ../shared).");
        var path = Path.Combine(Root, relative);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"shared data missing: {path}");
        return path;
    }
}
