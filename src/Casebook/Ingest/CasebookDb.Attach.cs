using Casebook.Ingest;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// Linking, before anything is built: resolves every attachment to a study of this ingest or a live study of the
    /// database (<see cref="StudyLinker"/>). An attachment for a study of this ingest fills its empty report, dictation
    /// or image slot (one version); the others wait for <see cref="AttachToStudies"/>. Unresolved folder drops start new
    /// studies (their fallback); other unresolved references are errors.
    /// </summary>
    (List<StudyInput> Inputs, SortedDictionary<string, List<StudyAttachment>> Later) PlanAttachments(
        IReadOnlyList<StudyInput> discovered, IReadOnlyList<StudyAttachment> attachments, IngestOptions options, List<IngestError> errors)
    {
        var inputs = discovered.ToList();
        var later = new SortedDictionary<string, List<StudyAttachment>>(StringComparer.Ordinal);
        if (attachments.Count == 0) return (inputs, later);
        var key = PatientPseudonym.Load(Options.KeyFile);
        var linker = new StudyLinker(key);
        linker.Resolvers.AddRange(options.StudyResolvers);
        foreach (var (id, accession, accessionKey) in LiveStudyReferences()) linker.AddStudy(id, accession, accessionKey);
        foreach (var input in inputs)
        {
            foreach (var source in input.DicomStudy?.Series.SelectMany(s => s.Instances).Select(i => i.Source) ?? [])
                if (!source.Contains(".zip!", StringComparison.OrdinalIgnoreCase)) linker.AddFolder(Path.GetDirectoryName(source)!, input.StudyId);
            var dicomAccession = input.DicomStudy?.Series.Where(s => s.Instances.Count > 0)
                .Select(s => StudyBuilder.ReadDicomAccession(s.Instances[0].Source, options.Dicom.MaxInstanceBytes)).FirstOrDefault(a => a != null);
            linker.AddStudy(input.StudyId, input.Extra.GetValueOrDefault("accession"), dicomAccession == null ? null : StudyLinker.AccessionKey(key, dicomAccession));
        }

        var indexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++) indexOf.TryAdd(inputs[i].StudyId, i);
        var fallbacks = new SortedDictionary<string, List<StudyAttachment>>(StringComparer.Ordinal);
        foreach (var a in attachments)
        {
            string? target = null;
            try
            {
                foreach (var reference in a.References)
                    if ((target = linker.Resolve(reference)) != null) break;
            }
            catch (InvalidDataException e) { errors.Add(new IngestError(a.Origin, $"{Path.GetFileName(a.File)}: {e.Message}")); continue; }
            if (target == null)
            {
                if (a.FallbackStudyId != null) Add(fallbacks, a.FallbackStudyId, a);
                else errors.Add(new IngestError(a.Origin, $"{Path.GetFileName(a.File)}: no study with {string.Join(" or ", a.References)} in this ingest or the database"));
                continue;
            }
            if (indexOf.TryGetValue(target, out var index))
            {
                var input = inputs[index];
                if (a.PatientId != null && key.Pseudonymise(a.Issuer, a.PatientId) != key.Pseudonymise(input.Issuer, input.PatientId))
                {
                    errors.Add(new IngestError(a.Origin, $"{Path.GetFileName(a.File)}: study '{target}' belongs to another patient than patient_id '{a.PatientId}'; not attached"));
                    continue;
                }
                if (Fill(input, a) is { } filled) { inputs[index] = filled; continue; }
            }
            Add(later, target, a);
        }

        // Folder drops that name no known study: each group becomes a new study (named by its folder, or by the file's stem)
        // when it holds a report or a recording; images alone never make a study, as before.
        foreach (var (id, group) in fallbacks)
        {
            if (!group.Any(a => a.Kind != AttachmentKind.Image)) continue;
            var input = new StudyInput(id, id, StudyManifest.DefaultIssuer, null, null, null, [], group.First(a => a.Kind != AttachmentKind.Image).File);
            foreach (var a in group)
                if (Fill(input, a) is { } filled) input = filled;
                else Add(later, id, a);
            inputs.Add(input);
        }
        return (inputs, later);

        static void Add(SortedDictionary<string, List<StudyAttachment>> map, string id, StudyAttachment a)
        {
            if (!map.TryGetValue(id, out var list)) map[id] = list = new();
            list.Add(a);
        }
    }

    /// <summary>The input with <paramref name="a"/> in its empty slot, or null when that slot is taken.</summary>
    static StudyInput? Fill(StudyInput input, StudyAttachment a) => a.Kind switch
    {
        AttachmentKind.Report when input.ReportPath == null && input.ReportText == null => input with { ReportPath = a.File },
        AttachmentKind.Dictation when input.DictationPath == null => input with { DictationPath = a.File },
        AttachmentKind.Image when input.DicomStudy == null => input with { ImagePaths = [.. input.ImagePaths, a.File] },
        _ => null,
    };

    /// <summary>
    /// Linking, after this ingest's commits: adds the remaining attachments to their (now live) studies, which get a new
    /// version keeping their images, vectors and earlier segments. Unchanged when every file is already attached.
    /// </summary>
    (int Found, int Updated, int Unchanged) AttachToStudies(StudyBuilder builder, SortedDictionary<string, List<StudyAttachment>> later,
        IngestOptions options, List<IngestError> errors, List<long> versions, IProgress<Progress>? progress)
    {
        int found = 0, updated = 0, unchanged = 0, done = 0;
        var pseudonym = PatientPseudonym.Load(Options.KeyFile);
        foreach (var chunk in later.Chunk(Math.Max(1, options.BatchSize)))
        {
            var batch = new WriteBatch();
            foreach (var (id, group) in chunk)
            {
                found++;
                var study = GetStudy(id);
                if (study == null)
                {
                    foreach (var a in group) errors.Add(new IngestError(a.Origin, $"{Path.GetFileName(a.File)}: study '{id}' was not ingested; nothing to attach to"));
                    continue;
                }
                var accepted = new List<StudyAttachment>();
                foreach (var a in group)
                    if (a.PatientId != null && pseudonym.Pseudonymise(a.Issuer, a.PatientId) != study.PatientPseudoId)
                        errors.Add(new IngestError(a.Origin, $"{Path.GetFileName(a.File)}: study '{id}' belongs to another patient than patient_id '{a.PatientId}'; not attached"));
                    else accepted.Add(a);
                if (builder.Attach(study, accepted, errors)) { StampModels(study); batch.Upserts.Add(study); }
                else unchanged++;
            }
            EmbedStudies(batch.Upserts, errors, progress, done, later.Count);
            done += chunk.Length;
            progress?.Report(new Progress("attach", done, later.Count));
            if (batch.IsEmpty) continue;
            var result = Commit(batch, options.Message ?? $"attach reports and dictations to {batch.Upserts.Count} studies");
            if (result.Version is { } v) versions.Add(v);
            updated += result.Updated; unchanged += result.Unchanged;
        }
        return (found, updated, unchanged);
    }

    /// <summary>
    /// Dictations: points PocketSphinx at the configured domain LM. "auto" builds it from the database's own report text (and
    /// this ingest's typed reports) only when something will be transcribed; the file is cached in DIR/cache/.
    /// </summary>
    void PrepareDictationLanguageModel(IngestOptions options, IReadOnlyList<StudyInput> inputs, SortedDictionary<string, List<StudyAttachment>> later)
    {
        var lm = options.DictationLanguageModel;
        if (lm == null || options.SpeechToText.Engine != Extract.Audio.SpeechToTextOptions.PocketSphinx) return;
        var settings = options.SpeechToText.PocketSphinxSettings;
        if (lm != IngestOptions.AutoLanguageModel) { settings.DomainLanguageModel = lm; return; }
        if (!inputs.Any(i => i.DictationPath != null) && !later.Values.Any(g => g.Any(a => a.Kind == AttachmentKind.Dictation))) return;
        var texts = Studies(withSegments: false).Select(s => s.ReportText).Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t!).ToList();
        foreach (var i in inputs)
            if (i.ReportText != null) texts.Add(i.ReportText);
            else if (i.ReportPath != null && (i.ReportPath.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || i.ReportPath.EndsWith(".md", StringComparison.OrdinalIgnoreCase)) && File.Exists(i.ReportPath))
                texts.Add(File.ReadAllText(i.ReportPath));
        if (texts.Count == 0) return; // nothing to learn from yet: the general LM alone
        var vocabulary = Extract.Audio.DictationLanguageModel.ReadDictionaryWords(settings.Dictionary ?? Path.Combine(settings.ModelDirectory, "cmudict-en-us.dict"));
        try
        {
            settings.DomainLanguageModel = Extract.Audio.DictationLanguageModel.BuildCached(texts, vocabulary, Path.Combine(Directory, "cache", "dictation-lm.arpa"));
        }
        catch (ArgumentException) { } // no in-vocabulary words: keep the general LM
    }

    /// <summary>study_id, plain accession (manifest column) and keyed accession (DICOM) of every live study.</summary>
    List<(string Id, string? Accession, string? AccessionKey)> LiveStudyReferences()
    {
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT study_id, json_extract(metadata, '$.accession'), json_extract(metadata, '$.{StudyLinker.AccessionKeyField}')
            FROM studies WHERE v_to IS NULL
            """;
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string?, string?)>();
        while (r.Read()) list.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetValue(1).ToString(), r.IsDBNull(2) ? null : r.GetString(2)));
        return list;
    }
}
