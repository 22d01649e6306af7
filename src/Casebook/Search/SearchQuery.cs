namespace Casebook.Search;

public enum SearchMode { Hybrid, Bm25, Dense }

/// <summary>A study that matched, with its best segments (contract of <c>casebook search --json</c>).</summary>
public sealed record StudyHit(string StudyId, string PatientPseudoId, double Score, string? Modality, string? ExamDate, IReadOnlyList<SegmentHit> Matches);

/// <summary>A matching segment; <see cref="Snippet"/> marks matched terms with [ ] when keyword search found it.</summary>
public sealed record SegmentHit(string SegmentId, string Kind, string? Text, double Score, string? Snippet)
{
    internal long RowId { get; init; }
}

public sealed record SearchResult(IReadOnlyList<StudyHit> Results, double TookMs);

/// <summary>
/// A search as one fluent chain with sensible defaults (hybrid, filter applied before ranking, 10 studies):
/// <c>db.Search("pleural effusion").Where("modality = 'CR'").Limit(10).ToList()</c>.
/// </summary>
public sealed class SearchQuery
{
    readonly CasebookDb _db;
    internal string? Text { get; private set; }
    internal byte[]? ImageBytes { get; private set; }
    internal float[]? QueryVector { get; private set; }
    internal float[]? ImageVector { get; private set; }
    internal double ValidatedWeight { get; private set; } = 0.5;
    internal string? Filter { get; private set; }
    internal int LimitValue { get; private set; } = 10;
    internal SearchMode ModeValue { get; private set; } = SearchMode.Hybrid;
    internal bool ExactValue { get; private set; }
    internal long? AsOfVersion { get; private set; }
    internal double Bm25Weight { get; private set; } = 1.0;
    internal double DenseWeight { get; private set; } = 1.0;
    internal double ImageWeight { get; private set; } = 1.0;
    internal int RrfK { get; private set; } = 60;
    internal int SegmentsPerStudy { get; private set; } = 3;
    internal bool ExpandQuery { get; private set; } = true;
    internal bool AssertionAwareValue { get; private set; } = true;
    // Light by default: the benchmark queries (no abbreviations) lose 0.3–0.7 nDCG@10 to synonym noise at 0.2, more at 0.5.
    internal double ExpansionWeight { get; private set; } = 0.2;
    // Dense pseudo-relevance feedback is on by default: +1.6 nDCG@10 dense, +0.4 hybrid on NFCorpus dev (docs/benchmarks.md).
    internal int FeedbackDocs { get; private set; } = 3;
    internal double FeedbackWeight { get; private set; } = 0.5;

    internal SearchQuery(CasebookDb db, string? text, byte[]? image) { _db = db; Text = string.IsNullOrWhiteSpace(text) ? null : text; ImageBytes = image; }

    /// <summary>Filter in the Casebook filter language (docs/filter-language.md), applied before ranking.</summary>
    public SearchQuery Where(string filter) { Filter = string.IsNullOrWhiteSpace(filter) ? null : filter; return this; }
    /// <summary>Number of studies to return.</summary>
    public SearchQuery Limit(int studies) { if (studies < 1) throw new ArgumentOutOfRangeException(nameof(studies), "limit must be at least 1"); LimitValue = studies; return this; }
    public SearchQuery Mode(SearchMode mode) { ModeValue = mode; return this; }
    /// <summary>Bypass the approximate index: exact scan of every candidate vector.</summary>
    public SearchQuery Exact(bool exact = true) { ExactValue = exact; return this; }
    /// <summary>Search the database as it was at a version.</summary>
    public SearchQuery AsOf(long? version) { AsOfVersion = version; return this; }
    /// <summary>Also search by image (PNG/JPEG bytes): similar image slices.</summary>
    public SearchQuery Image(byte[] encoded) { ImageBytes = encoded; return this; }
    /// <summary>Search with a precomputed text query vector (skips embedding the text; for benchmarks and tools).</summary>
    public SearchQuery WithQueryVector(float[] vector) { QueryVector = vector; return this; }
    /// <summary>Search by a precomputed image vector (a study's pooled slices, a region crop) instead of image bytes.</summary>
    public SearchQuery WithImageVector(float[] vector) { ImageVector = vector; return this; }
    /// <summary>Weight of the fused list that favours studies whose clinician-confirmed findings or diagnoses match the query (0 = off).</summary>
    public SearchQuery ValidatedBoost(double weight) { ValidatedWeight = Math.Max(0, weight); return this; }
    /// <summary>Reciprocal-rank-fusion weights and constant.</summary>
    public SearchQuery Fusion(double bm25 = 1.0, double dense = 1.0, double image = 1.0, int k = 60) { Bm25Weight = bm25; DenseWeight = dense; ImageWeight = image; RrfK = k; return this; }
    /// <summary>Medical abbreviation/synonym expansion of keyword queries (on by default).</summary>
    public SearchQuery Expansion(bool on, double weight = 0.2) { ExpandQuery = on; ExpansionWeight = weight; return this; }
    /// <summary>Clinical NLP: demote segments that deny the query's finding in dense and segment lists (default on; keyword
    /// matching of negated mentions is decided at index time, see docs/clinical-nlp.md).</summary>
    public SearchQuery AssertionAware(bool on = true) { AssertionAwareValue = on; return this; }
    /// <summary>
    /// Dense pseudo-relevance feedback (Rocchio): the query vector moves toward the mean of its <paramref name="docs"/>
    /// best segments (weight <paramref name="weight"/>) and the dense search runs again. Off when docs = 0.
    /// </summary>
    public SearchQuery Feedback(int docs, double weight = 0.5) { FeedbackDocs = Math.Max(0, docs); FeedbackWeight = weight; return this; }
    public SearchQuery MatchesPerStudy(int n) { SegmentsPerStudy = Math.Max(1, n); return this; }

    public SearchResult Execute() => SearchExecutor.Run(_db, this);
    public List<StudyHit> ToList() => Execute().Results.ToList();
}
