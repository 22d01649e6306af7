using System.Diagnostics;

namespace Casebook.Tests;

/// <summary>Runs the real CLI (the same binary ./casebook execs) as a child process.</summary>
public static class CliProcess
{
    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "Casebook.Cli.dll");

    public static ProcessStartInfo StartInfo(string workingDirectory, string keyFile, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CASEBOOK_KEY_FILE"] = keyFile;
        psi.Environment["CASEBOOK_AUTHOR"] = "cli-test";
        return psi;
    }

    /// <summary>Runs to completion (bounded by <paramref name="timeout"/>) and returns exit code, stdout, stderr.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string workingDirectory, string keyFile, TimeSpan timeout, params string[] args)
    {
        using var p = Process.Start(StartInfo(workingDirectory, keyFile, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"casebook {string.Join(' ', args)} did not finish in {timeout}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
