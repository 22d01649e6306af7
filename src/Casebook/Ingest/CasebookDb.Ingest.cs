using Casebook.Embed;
using Casebook.Ingest;
using Casebook.Ingest.Dicom;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook;

/// <summary>Progress of a long operation, for progress bars (written to stderr by the CLI).</summary>
public sealed record Progress(string Stage, int Done, int Total);

/// <summary>What an ingest did; <see cref="Errors"/> lists every bad input (file + reason).</summary>
public sealed record IngestResult(int Found, int Inserted, int Updated, int Unchanged, IReadOnlyList<long> Versions, IReadOnlyList<IngestError> Errors)
{
    /// <summary>FHIR ingest: what the FHIR files gave (null when there were none).</summary>
    public Casebook.Ingest.Fhir.FhirIngestStats? Fhir { get; init; }
}

public sealed partial class CasebookDb
{
    /// <summary>
    /// Ingests folders, manifests and files. Studies are built, embedded and committed in batches (one version
    /// per batch that changes something); unchanged studies are skipped before any embedding work. A bad input is
    /// reported in <see cref="IngestResult.Errors"/> and the rest goes on.
    /// </summary>
    public IngestResult Ingest(IEnumerable<string> paths, IngestOptions? options = null, IProgress<Progress>? progress = null)
    {
        var errors = new List<IngestError>();
        var key = PatientPseudonym.Load(Options.KeyFile);
        var attachments = new List<StudyAttachment>();
        var fhirFiles = new List<string>();
        var inputs = StudyManifest.Discover(paths, errors, key, attachments, fhirFiles); // the key remaps DICOM UIDs
        // FHIR ingest: events are committed first; FHIR imaging studies join the inputs (merged with DICOM of the same UID).
        var (merged, fhir, patients) = IngestFhir(fhirFiles, inputs, errors, options ??= new IngestOptions(), key);
        var result = Ingest(merged, attachments, errors, options, progress);
        var refreshed = RefreshTimelines(patients, merged.Select(s => s.StudyId).ToHashSet(), options.Fhir.Timeline, options.BatchSize);
        return result with { Fhir = fhir, Updated = result.Updated + refreshed };
    }

    /// <summary>Ingests studies described in code (inline report text or file paths).</summary>
    public IngestResult Ingest(IReadOnlyList<StudyInput> inputs, IngestOptions? options = null, IProgress<Progress>? progress = null) =>
        Ingest(inputs, [], new List<IngestError>(), options, progress);

    /// <summary>Ingests studies and attaches documents and recordings to studies they name (in <paramref name="inputs"/> or the database).</summary>
    public IngestResult Ingest(IReadOnlyList<StudyInput> inputs, IReadOnlyList<StudyAttachment> attachments, IngestOptions? options = null, IProgress<Progress>? progress = null) =>
        Ingest(inputs, attachments, new List<IngestError>(), options, progress);

    IngestResult Ingest(IReadOnlyList<StudyInput> discovered, IReadOnlyList<StudyAttachment> attachments, List<IngestError> errors, IngestOptions? options, IProgress<Progress>? progress)
    {
        options ??= new IngestOptions();
        // Linking: attachments join this ingest's studies where they can; the rest update studies after this ingest's commits.
        var (inputs, later) = PlanAttachments(discovered, attachments, options, errors);
        PrepareDictationLanguageModel(options, inputs, later); // IngestOptions.DictationLanguageModel
        var pseudonym = PatientPseudonym.Load(Options.KeyFile);
        // DICOM ingest: per-instance problems go to errors; stored DICOM is de-identified or not stored at all.
        // Scanned reports and dictations: `using` disposes the speech engine the builder loads (once per ingest).
        using var builder = new StudyBuilder(Blobs, pseudonym, options) { Errors = errors, Deidentifier = DicomDeidentification.Factory(pseudonym, options.Dicom) };
        var live = LiveContentHashes();
        int inserted = 0, updated = 0, unchanged = 0, done = 0;
        var versions = new List<long>();
        foreach (var chunk in inputs.Chunk(Math.Max(1, options.BatchSize)))
        {
            var batch = new WriteBatch();
            foreach (var input in chunk)
            {
                try
                {
                    var study = builder.Build(WithLiveFhirText(input, live, out var liveRow)); // FHIR ingest: keep FHIR text under new DICOM
                    MergeFhirAndTimeline(study, input, liveRow, options); // FHIR ingest: keep images under new FHIR; timeline_events
                    if (options.Dicom.KeepStoredInstances && input.DicomStudy != null && live.ContainsKey(study.StudyId) && GetStudy(study.StudyId) is { } stored)
                        DicomStudyMerge.KeepStored(study, stored); // network feeds: a study arriving in pieces keeps its earlier pieces
                    StampModels(study);
                    if (live.TryGetValue(study.StudyId, out var hash) && hash == ContentHash.Of(study)) { unchanged++; continue; }
                    batch.Upserts.Add(study);
                }
                catch (IngestFileException e) { errors.Add(new IngestError(e.File, e.Message)); } // the scan or recording at fault
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
                {
                    errors.Add(new IngestError(input.ReportPath ?? input.Origin, e.Message));
                }
            }
            EmbedStudies(batch.Upserts, errors, progress, done, inputs.Count);
            done += chunk.Length;
            progress?.Report(new Progress("ingest", done, inputs.Count));
            if (batch.IsEmpty) continue;
            var result = Commit(batch, options.Message ?? $"ingest {batch.Upserts.Count} studies");
            if (result.Version is { } v) versions.Add(v);
            inserted += result.Inserted; updated += result.Updated; unchanged += result.Unchanged;
        }
        var attachedTo = AttachToStudies(builder, later, options, errors, versions, progress);
        return new IngestResult(inputs.Count + attachedTo.Found, inserted, updated + attachedTo.Updated, unchanged + attachedTo.Unchanged, versions, errors);
    }

    Dictionary<string, string> LiveContentHashes()
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT study_id, content_hash FROM studies WHERE v_to IS NULL";
        using var r = cmd.ExecuteReader();
        var map = new Dictionary<string, string>();
        while (r.Read()) map[r.GetString(0)] = r.GetString(1);
        return map;
    }

    /// <summary>Records which model will embed each segment, so that a model change counts as a content change.</summary>
    void StampModels(StudyRecord study)
    {
        foreach (var g in study.Segments)
        {
            if (g.Text != null) g.TextModel = TextEmbedder.Model.Id;
            // DICOM ingest: DICOM slices are embedded only within the series budget (DicomPending), never from the blob.
            if (g.Kind == SegmentKind.ImageSlice && (DicomPending.WillEmbed(g) || (g.Blob != null && g.BlobMime != DicomSlicer.Mime)))
                g.ImageModel = ImageEmbedder.Model.Id;
        }
    }

    /// <summary>Embeds every text segment of the batch in one pass (the model batches internally) and images per study.</summary>
    void EmbedStudies(List<StudyRecord> studies, List<IngestError> errors, IProgress<Progress>? progress, int done, int total)
    {
        var texts = studies.SelectMany(s => s.Segments).Where(g => g.Text != null && g.TextEmbedding == null).ToList();
        if (texts.Count > 0)
        {
            var vectors = TextEmbedder.Embed(texts.Select(g => g.Text!).ToList());
            for (var i = 0; i < texts.Count; i++) texts[i].TextEmbedding = vectors[i];
        }
        for (var si = studies.Count - 1; si >= 0; si--)
        {
            var images = studies[si].Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.Blob != null && g.BlobMime != DicomSlicer.Mime && g.ImageEmbedding == null && !DicomPending.WillEmbed(g)).ToList();
            if (images.Count == 0) continue;
            try
            {
                var vectors = ImageEmbedder.Embed(images.Select(g => Blobs.Read(g.Blob!)).ToList());
                for (var i = 0; i < images.Count; i++) images[i].ImageEmbedding = vectors[i];
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException)
            {
                errors.Add(new IngestError(studies[si].StudyId, $"image could not be embedded: {e.Message}"));
                studies.RemoveAt(si);
            }
        }
        EmbedDicomSlices(studies, errors);
        EmbedRegionCrops(studies, errors); // imported SEG/RTSTRUCT regions (Regions/)
    }

    /// <summary>
    /// DICOM ingest: renders the budgeted frames of changed studies (ImageRenderer, 8-bit) and embeds the pixels directly
    /// (no PNG round trip), then pools each series' slice vectors into its series segment (normalised mean).
    /// </summary>
    void EmbedDicomSlices(List<StudyRecord> studies, List<IngestError> errors)
    {
        var pending = new List<(SegmentRecord Segment, DicomFrameRef Frame)>();
        foreach (var g in studies.SelectMany(s => s.Segments))
            if (g.ImageEmbedding == null && DicomPending.TryGetFrame(g, out var f)) pending.Add((g, f));
        if (pending.Count > 0)
        {
            var embedder = ImageEmbedder as IPixelImageEmbedder
                ?? throw new InvalidOperationException($"the image model '{ImageEmbedder.Model.Id}' cannot embed decoded pixels (DICOM slices need an ONNX image model)");
            // Render and embed in chunks so that a 200-slice study never holds all rendered frames at once.
            foreach (var chunk in pending.Chunk(32))
            {
                var failures = new List<(DicomFrameRef Frame, string Reason)>();
                var images = DicomSliceRendering.RenderAll(chunk.Select(p => p.Frame).ToList(), long.MaxValue, failures);
                foreach (var (frame, reason) in failures) errors.Add(new IngestError(frame.Source, $"DICOM frame not embedded: {reason}"));
                var ok = Enumerable.Range(0, chunk.Length).Where(i => images[i] != null).ToList();
                if (ok.Count == 0) continue;
                var vectors = embedder.EmbedPixels(ok.Select(i => images[i]!).ToList());
                for (var k = 0; k < ok.Count; k++) chunk[ok[k]].Segment.ImageEmbedding = vectors[k];
            }
        }
        foreach (var g in studies.SelectMany(s => s.Segments))
        {
            if (g.ImageEmbedding != null || !DicomPending.TryGetPool(g, out var slices)) continue;
            var vectors = slices.Where(s => s.ImageEmbedding != null).Select(s => s.ImageEmbedding!).ToList();
            if (vectors.Count == 0) continue;
            var mean = new float[vectors[0].Length];
            foreach (var v in vectors) System.Numerics.Tensors.TensorPrimitives.Add(mean, v, mean);
            var norm = System.Numerics.Tensors.TensorPrimitives.Norm(mean);
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(mean, norm, mean);
            g.ImageEmbedding = mean;
        }
    }
}
