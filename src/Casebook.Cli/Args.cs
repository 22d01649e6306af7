namespace Casebook.Cli;

/// <summary>Command-line arguments: positional values plus --flags (with or without values). Small on purpose.</summary>
public sealed class Args
{
    readonly Dictionary<string, List<string>> _options = new();
    readonly HashSet<string> _consumed = new();
    public List<string> Positional { get; } = new();

    public Args(IEnumerable<string> args, IReadOnlySet<string> booleanFlags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (a.StartsWith("--") && a.Length > 2)
            {
                var name = a[2..];
                string? value = null;
                var eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (!booleanFlags.Contains(name))
                {
                    if (!e.MoveNext()) throw new UsageException($"option --{name} needs a value");
                    value = e.Current;
                }
                if (!_options.TryGetValue(name, out var list)) _options[name] = list = new();
                list.Add(value ?? "true");
            }
            else Positional.Add(a);
        }
    }

    public string? Get(string name) { _consumed.Add(name); return _options.TryGetValue(name, out var v) ? v[^1] : null; }
    public bool Flag(string name) => Get(name) is "true" or "1" or "yes";
    public long? Long(string name)
    {
        var v = Get(name);
        if (v == null) return null;
        return long.TryParse(v, out var n) ? n : throw new UsageException($"--{name} must be an integer, not '{v}'");
    }

    /// <summary>Fails on options the command did not read, so typos are not silently ignored.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _options.Keys.Where(k => !_consumed.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}

public sealed class UsageException(string message) : Exception(message);
