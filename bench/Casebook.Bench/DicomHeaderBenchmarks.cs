namespace Casebook.Bench; public static class DicomHeaderBenchmarks { public static string Run(string sharedDataDir) => ""; }
