using Casebook;
using Casebook.Cli;

// Entry point of ./casebook: stdout carries only the answer (text or JSON); logs and progress go to stderr.
// Exit codes: 0 ok, 1 some inputs failed, 2 usage error, 3 error.
try
{
    if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.Out.Write(Commands.Help); return args.Length == 0 ? 2 : 0; }
    return Commands.Run(args[0], args[1..]);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"casebook: {e.Message}");
    Console.Error.WriteLine("run './casebook help' for usage");
    return 2;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException
                              or Casebook.Storage.DatabaseFormatException or UnauthorizedAccessException or FormatException
                              or Casebook.Search.Filtering.FilterSyntaxException or NotSupportedException)
{
    Console.Error.WriteLine($"casebook: error: {e.Message}");
    return 3;
}
