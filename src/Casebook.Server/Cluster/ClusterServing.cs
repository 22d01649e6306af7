using Casebook.Cluster;
using Casebook.Ingest;
using Casebook.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Casebook.Server.Cluster;

/// <summary>
/// `serve --cluster FILE`: the server connects to the cluster as its coordinator. Its own directory (<see cref="ServerOptions.DbDirectory"/>)
/// holds only the server's tables (API keys, audit log) and JWT key, in an empty engine database that is never served: every
/// data endpoint answers from the cluster (ClusterRoutes), so a missing route can never fall back to local data.
/// </summary>
static class ClusterServing
{
    public static ClusterClient Connect(ServerOptions options)
    {
        var config = ClusterConfig.Load(options.ClusterFile!);
        if (!File.Exists(Path.Combine(options.DbDirectory, "casebook.db"))) CasebookDb.Open(options.DbDirectory).Dispose();
        return ClusterClient.ConnectAsync(config).GetAwaiter().GetResult();
    }

    public static void AddServices(IServiceCollection services, ServerOptions options, ClusterClient cluster)
    {
        services.AddSingleton(cluster);
        // Slices and thumbnails render from the object store, where the shards' binaries live by content hash.
        services.AddSingleton(new Endpoints.SliceRenderer(blob => cluster.Log.GetBlobAsync(blob.Sha256).GetAwaiter().GetResult()));
        services.AddSingleton<DicomWeb.DicomWebSource>(new ClusterDicomWeb(cluster)); // DICOMweb over the shards' instance tables
        // Upload jobs ingest into the log: the pipeline runs here with the deployment's key file, every touched shard applies it.
        services.AddSingleton(new IngestJobs(options, (job, _, ingestOptions) =>
        {
            var r = cluster.IngestAsync([job.Folder], ingestOptions).GetAwaiter().GetResult();
            return new IngestResult(r.Found, r.Appended, 0, r.Unchanged, [], r.Errors);
        }));
        // Hospital feeds: the same SCP and MLLP code as one node; their changes go through the log (ClusterFeedTarget).
        CasebookServer.AddFeeds(services, options, _ => new ClusterFeedTarget(cluster, options));
    }
}
