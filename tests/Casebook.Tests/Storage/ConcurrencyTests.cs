using Casebook.Storage;

namespace Casebook.Tests.Storage;

public class ConcurrencyTests
{
    [Fact]
    public void Readers_keep_reading_a_consistent_version_while_a_writer_writes()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var first = new WriteBatch();
        for (var i = 0; i < 20; i++) first.Upserts.Add(StudyFactory.Full(db, $"S{i:D3}", seed: i));
        db.Commit(first, "seed");

        var stop = false;
        var readerErrors = new List<string>();
        var reads = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            using var reader = tmp.OpenDb();
            while (!Volatile.Read(ref stop))
            {
                // Each version adds exactly 5 studies: a torn read would see a count between versions.
                var version = reader.CurrentVersion;
                var count = reader.CountStudies(version);
                if (count != 20 + (version - 1) * 5) lock (readerErrors) readerErrors.Add($"version {version} has {count} studies");
                Interlocked.Increment(ref reads);
            }
        })).ToArray();

        // Start writing only once both readers are reading, so reads and writes really overlap.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref reads) < 2 && waited.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(5);
        var readsBeforeWriting = Volatile.Read(ref reads);
        for (var v = 0; v < 15; v++)
        {
            var batch = new WriteBatch();
            for (var i = 0; i < 5; i++) batch.Upserts.Add(StudyFactory.Full(db, $"W{v:D2}-{i}", seed: 100 + v * 5 + i));
            db.Commit(batch, $"writer batch {v}");
        }
        Volatile.Write(ref stop, true);
        Task.WaitAll(readers);
        Assert.Empty(readerErrors);
        Assert.True(readsBeforeWriting >= 2, "readers never started");
        Assert.True(reads > readsBeforeWriting, "no read overlapped the writes");
        Assert.Equal(16, db.Versions().Count);
    }

    [Fact]
    public void Concurrent_writers_are_serialised_and_no_update_is_lost()
    {
        using var tmp = new TempDirectory();
        using (var init = tmp.OpenDb()) { }
        const int writers = 4, commitsEach = 8;
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            using var db = tmp.OpenDb();
            for (var i = 0; i < commitsEach; i++)
            {
                var b = new WriteBatch();
                b.Upserts.Add(StudyFactory.Full(db, $"writer{w}-study{i}", seed: w * 100 + i));
                db.Commit(b, $"writer {w} commit {i}");
            }
        })).ToArray();
        Task.WaitAll(tasks);
        using var check = tmp.OpenDb();
        var versions = check.Versions();
        Assert.Equal(writers * commitsEach, versions.Count);
        Assert.Equal(Enumerable.Range(1, writers * commitsEach).Select(i => (long)i), versions.Select(v => v.Version));
        Assert.Equal(writers * commitsEach, check.CountStudies());
    }
}
