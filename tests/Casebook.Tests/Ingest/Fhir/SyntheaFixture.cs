namespace Casebook.Tests.Ingest.Fhir;

/// <summary>The 12 Synthea bundles of ../shared/data/fhir/synthea ingested once into a scratch database, shared by a test class.</summary>
public sealed class SyntheaFixture : IDisposable
{
    public TempDirectory Temp { get; } = new();
    public CasebookDb Db { get; }
    public IngestResult Result { get; }
    public string Folder { get; } = SharedData.Require("fhir/synthea");

    public SyntheaFixture()
    {
        Db = Temp.OpenDb();
        Result = Db.Ingest([Folder]);
    }

    public void Dispose() { Db.Dispose(); Temp.Dispose(); }
}
