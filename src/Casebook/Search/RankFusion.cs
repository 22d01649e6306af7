namespace Casebook.Search;

/// <summary>
/// Weighted RRF at study level, the one fusion used by one node (SearchExecutor, segments keyed by row id) and by the
/// cluster coordinator (ShardSearch, keyed by segment id), so both answer alike. Each list ranks studies by their best
/// segment (or ranks studies directly when it carries <see cref="Input{TKey}.Studies"/>); a study's score is
/// Σ weight / (k + rank). A single list keeps its native score (BM25 or cosine). Ties go to study_id, segment ties to
/// segment_id.
/// </summary>
internal static class RankFusion
{
    /// <summary>A ranked segment; <paramref name="StudyId"/> null when the segment is gone (it keeps its rank, adds nothing).</summary>
    public readonly record struct Item<TKey>(TKey Key, string? StudyId, double Score);
    public sealed record Input<TKey>(IReadOnlyList<Item<TKey>> Segments, double Weight, IReadOnlyList<(string StudyId, double Score)>? Studies);
    public sealed record Fused<TKey>(string StudyId, double Score, List<(TKey Key, double Score)> Segments);

    public static List<Fused<TKey>> Fuse<TKey>(IReadOnlyList<Input<TKey>> lists, int rrfK, int limit, int segmentsPerStudy, Func<TKey, string> segmentId)
        where TKey : notnull
    {
        var studyScore = new Dictionary<string, double>();
        var segScore = new Dictionary<TKey, double>();
        var segStudy = new Dictionary<TKey, string>();
        var single = lists.Count(l => l.Segments.Count > 0 || l.Studies is { Count: > 0 }) <= 1;
        foreach (var list in lists)
        {
            var studyRank = 0;
            var seen = new HashSet<string>();
            for (var i = 0; i < list.Segments.Count; i++)
            {
                var hit = list.Segments[i];
                if (hit.StudyId == null) continue;
                segStudy[hit.Key] = hit.StudyId;
                segScore[hit.Key] = segScore.GetValueOrDefault(hit.Key) + (single ? hit.Score : list.Weight / (rrfK + i + 1));
                if (list.Studies != null || !seen.Add(hit.StudyId)) continue;
                studyRank++;
                studyScore[hit.StudyId] = studyScore.GetValueOrDefault(hit.StudyId) + (single ? hit.Score : list.Weight / (rrfK + studyRank));
            }
            if (list.Studies == null) continue;
            for (var i = 0; i < list.Studies.Count; i++)
            {
                var (studyId, score) = list.Studies[i];
                studyScore[studyId] = studyScore.GetValueOrDefault(studyId) + (single ? score : list.Weight / (rrfK + i + 1));
            }
        }
        var byStudy = segScore.GroupBy(kv => segStudy[kv.Key]).ToDictionary(g => g.Key, g => g.ToList());
        // A study is answered with its segments; one ranked only as a document without a matching segment (a phrase
        // spanning two paragraphs) has nothing to show and is skipped.
        return studyScore.Where(kv => byStudy.ContainsKey(kv.Key)).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(limit)
            .Select(kv => new Fused<TKey>(kv.Key, kv.Value, byStudy[kv.Key].OrderByDescending(x => x.Value).ThenBy(x => segmentId(x.Key), StringComparer.Ordinal)
                .Take(segmentsPerStudy).Select(x => (x.Key, x.Value)).ToList())).ToList();
    }
}
