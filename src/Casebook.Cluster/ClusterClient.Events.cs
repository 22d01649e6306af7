using Microsoft.Data.Sqlite;

namespace Casebook.Cluster;

public sealed partial class ClusterClient
{
    /// <summary>
    /// Ingest: the FHIR patient events the staging database holds, appended to each patient's partition (before the patient's
    /// studies, as one node commits events first); <paramref name="targets"/> gets the last sequence per shard. Answers the
    /// number of entries appended.
    /// </summary>
    async Task<int> AppendPatientEventsAsync(CasebookDb staging, Dictionary<int, long> targets, string author, CancellationToken ct)
    {
        var patients = new List<string>();
        using (var c = CasebookDb.OpenConnection(CasebookDb.ConnectionStringFor(staging.Directory)))
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT DISTINCT patient_pseudo_id FROM patient_events WHERE v_to IS NULL ORDER BY patient_pseudo_id";
            try
            {
                using var r = cmd.ExecuteReader();
                while (r.Read()) patients.Add(r.GetString(0));
            }
            catch (SqliteException) { return 0; } // no events table: nothing to carry
        }
        var appended = 0;
        foreach (var p in patients)
        {
            var shard = ShardMap.ShardOf(p, Config.Shards);
            foreach (var entry in ClusterEvents.Entries(p, staging.PatientEvents(p), author))
            {
                var seq = await Log.AppendEventsAsync(shard, entry, ct);
                targets[shard] = Math.Max(targets.GetValueOrDefault(shard), seq);
                appended++;
            }
        }
        return appended;
    }
}
