using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Eval;
using Casebook.Export;
using Casebook.Ingest;
using Casebook.Search;

namespace Casebook.Cli;

/// <summary>The CLI verbs. Their names, options and JSON outputs are contracts other tools rely on: keep them stable.</summary>
public static partial class Commands
{
    public const string DefaultDb = "casebook-data";

    public const string Help = """
        casebook — embedded multimodal clinical retrieval database

        usage: ./casebook <command> [options]

          demo                         build ./casebook-data from the synthetic demo corpus and run example searches
          ingest PATH... [--db DIR] [--no-text-deid] [--keep-manifest-dates]   ingest folders (studies.csv, reports + images, scans, dictations, DICOM, FHIR),
                 manifests, DICOM files, zips, DICOMDIRs, FHIR .json bundles and .ndjson files
                 [--asr-engine pocketsphinx|whisper] [--whisper-model PATH] [--asr-lm auto|none|FILE] [--fhir-issuer I]
          search ["TEXT"] [--image FILE] [--where FILTER] [--mode bm25|dense|hybrid] [--exact]
                 [--limit N] [--as-of V] [--db DIR] [--json]
          versions [--json]            list versions (number, time, author, message)
          restore V                    make version V current again (as a new version); with --cluster F, V is a log sequence (versions --cluster --json: log_seq)
          export --format parquet|arrow|jsonl --out PATH [--as-of V] [--no-blobs] [--segments]   (--cluster F: all shards, --as-of a log sequence)
          purge --patient ID [--issuer I] | --pseudo-id HEX | --study ID
          stats [--json]               counts of studies, segments, versions
          timeline STUDY_ID [--window DAYS] [--outcome-window DAYS] [--json]   the patient's events around a study, and its outcomes
          gc [--json] [--cluster F [--grace S]]   remove blobs no version references (cluster: object store + shards)
          validate STUDY_ID --finding TERM --status confirmed|rejected [--reason R] --author A --role R --base-version V
                 [--edit-term T] [--edit-laterality left|right|bilateral|none] [--edit-code ICD10]   (corrections when confirming)
          diagnose STUDY_ID --code C --system icd10cm|snomed --status confirmed|provisional|refuted --author A --role R --base-version V
          region STUDY_ID --slice SEGMENT_ID --box x,y,w,h|--polygon x1,y1,x2,y2,x3,y3,… --label L --author A --role R --base-version V
          regions STUDY_ID [--json]    the study's regions (clinician, SEG, RTSTRUCT, NIfTI): label, source, coordinates, features (docs/regions.md)
          similar (--study ID | --image FILE | "TEXT") [--limit N] [--region SEG:x,y,w,h] [--json]   similar cases + outcomes
          history STUDY_ID [--json]    every version of a study: who, role, when, why, what changed (docs/validation.md)
          cohort run DEF.json|NAME [--role R] [--as-of V] --json | cohort save DEF.json --name N --author A | cohort list | cohort export NAME|DEF.json --format parquet|csv|fhir --out PATH [--as-of V] [--role R] [--allow-sensitive]   cohorts (docs/cohorts.md; each takes --cluster F)
          findings train [--min-examples N] [--trainer lr|lightgbm] --json | findings suggest [--study ID] [--min-probability P] --json | findings models --json | findings register NAME --onnx FILE --labels A,B   classifiers learned from clinicians' findings (docs/findings.md; each takes --cluster F)
          dicom dump FILE [--json]     DICOM elements as pydicom-comparable JSON
          dicom pixels FILE --out F.npy   stored pixel values as a NumPy array
          dicom deid IN OUT [--key-file F]   de-identify one file (PS3.15 basic profile); creates no database
          embed [TEXT...] [--image FILE]   print embedding vectors as JSON lines (stdin lines when no TEXT)
          ocr FILE [--json]            text of a scanned report (PDF text layer, else Tesseract OCR)
          anatomy IMAGE [--model NAME --models F] [--json]   body, lungs, bone (CT rule masks) or a segmentation model's structures
          transcribe FILE [--engine whisper|pocketsphinx] [--model PATH] [--json]   transcript of a dictation
          nlp analyze [--text T] --json | nlp assert --jsonl   clinical NLP: sentences, concepts + assertion (stdin when no --text)
          codes import FILE | codes lookup CODE [--json] [--cluster F]   ICD-10-CM code table (displays, hierarchy)
          deid-text [--text T | FILE] [--patient-id ID --issuer I] [--tags] [--json]   de-identify free text (names, dates, ids…)
          reembed --kind text|image [--models models.json] [--json] [--cluster F]   re-embed a vector column with the configured model (cluster: through the log)
          serve [--port P] [--bind ADDR] [--tls-cert PATH] [--insecure-http] [--cluster F]   HTTP API + search page (docs/server.md)
                [--dimse-port P --ae-title T] [--mllp-port Q]   DICOM C-STORE SCP and HL7 v2 MLLP feeds (docs/feeds.md)
          keys create --role clinician|researcher|validator|admin | keys list | keys revoke ID   server API keys ([--cluster F]: serve --cluster's)
          audit [--verify] [--json] [--cluster F]   the server's hash-chained audit log
          radiomics IMAGE MASK [--config dig|A|B|C|D|E] [--roi NAME] [--json]   IBSI 1 radiomics features of a region (docs/radiomics.md)
          cluster up --silos N --nats M --data DIR | cluster status --cluster F [--json] | cluster down --cluster F   a local cluster; ingest, search, versions, history, timeline, similar, validate, diagnose, region, purge, restore, export, cohort, findings, gc, reembed, keys, audit and serve take --cluster F (docs/cluster.md)
          cluster up ... --workers K [--work-ack-wait S] | cluster worker --cluster F --name W   OCR/ASR/embedding worker processes (docs/cluster.md)
          eval ir --docs D.tsv --queries Q.tsv --qrels R.qrel [--mode M] [--json]
                  [--keep-db DIR] [--bm25-weight W] [--dense-weight W] [--rrf-k K] [--no-expansion]

        common options: --db DIR (default ./casebook-data), --key-file F (patient pseudonym key), --author NAME
        filter language: docs/filter-language.md

        """;

    static readonly HashSet<string> BooleanFlags = ["json", "exact", "no-blobs", "segments", "no-expansion", "keep", "no-text-deid", "tags", "no-date-shift", "keep-manifest-dates"];

    internal static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false };

    public static int Run(string verb, string[] rest)
    {
        ClusterStudyCommands.RefuseIfNotDistributed(verb, rest); // verbs that do not take --cluster yet say so
        // Verbs with their own argument grammar parse `rest` themselves.
        var a = verb is "dicom" or "ocr" or "anatomy" or "transcribe" or "nlp" or "codes" or "serve" or "keys" or "audit" or "cohort" or "findings" or "cluster" ? new Args([], BooleanFlags) : new Args(rest, BooleanFlags);
        return verb switch
        {
            "ingest" => Ingest(a),
            "search" => Search(a),
            "versions" => Versions(a),
            "restore" => Restore(a),
            "export" => Export(a),
            "purge" => Purge(a),
            "stats" => Stats(a),
            "timeline" => Timeline(a),
            "gc" => Gc(a),
            "validate" => Validate(a), "diagnose" => Diagnose(a), "region" => Region(a), "regions" => Regions(a), "similar" => Similar(a), "history" => History(a),
            "eval" => Eval(a),
            "demo" => Demo(a),
            "reembed" => Reembed(a),
            "embed" => Embed(a),
            "deid-text" => PhiCommands.DeidText(a),
            "dicom" => DicomCommands.Run(rest),
            "ocr" => ExtractCommands.Ocr(rest),
            "anatomy" => AnatomyCommands.Run(rest),
            "transcribe" => ExtractCommands.Transcribe(rest),
            "nlp" => NlpCommands.Run(rest),
            "codes" => NlpCommands.Codes(rest),
            "serve" => ServerCommands.Serve(rest),
            "keys" => ServerCommands.Keys(rest),
            "audit" => ServerCommands.Audit(rest),
            "cohort" => CohortCommands.Run(rest),
            "radiomics" => RadiomicsCommands.Run(a),
            "findings" => FindingsCommands.Run(rest),
            "cluster" => ClusterCommands.Run(rest),
            _ => throw new UsageException($"unknown command '{verb}'"),
        };
    }

    static CasebookDb OpenDb(Args a, bool mustExist = true)
    {
        var dir = a.Get("db") ?? DefaultDb;
        if (mustExist && !File.Exists(Path.Combine(dir, "casebook.db")))
            throw new InvalidOperationException($"no Casebook database at '{dir}' (run ./casebook ingest or ./casebook demo first, or pass --db)");
        var options = new CasebookOptions { KeyFile = a.Get("key-file") };
        if (a.Get("author") is { } author) options.Author = author;
        if (a.Get("models") is { } models) options.ModelConfig = models;
        return CasebookDb.Open(dir, options);
    }

    static void WriteJson(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(JsonOut));

    static int Ingest(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterCommands.Ingest(a, cluster);
        if (a.Positional.Count == 0) throw new UsageException("ingest needs at least one PATH");
        using var db = OpenDb(a, mustExist: false);
        var json = a.Flag("json");
        var options = new IngestOptions { Message = a.Get("message") };
        if (a.Long("batch") is { } b) options.BatchSize = (int)b;
        ExtractCommands.ApplyIngestSpeechOptions(a, options); // --asr-engine, --whisper-model
        if (a.Flag("no-text-deid")) options.TextDeidentification = null;
        if (a.Flag("keep-manifest-dates")) options.ShiftManifestDates = false; // data already de-identified upstream
        options.Fhir.Issuer = a.Get("fhir-issuer"); // FHIR ingest: issuer for FHIR patients (docs/fhir.md)
        a.EnsureAllUsed();
        var bar = new ProgressBar();
        var result = db.Ingest(a.Positional, options, bar);
        bar.Finish();
        db.SaveIndexes();
        foreach (var e in result.Errors) Console.Error.WriteLine($"casebook: {e.File}: {e.Reason}");
        if (json)
            WriteJson(new JsonObject
            {
                ["found"] = result.Found, ["inserted"] = result.Inserted, ["updated"] = result.Updated, ["unchanged"] = result.Unchanged,
                ["versions"] = new JsonArray(result.Versions.Select(v => (JsonNode)v).ToArray()),
                ["errors"] = new JsonArray(result.Errors.Select(e => (JsonNode)new JsonObject { ["file"] = e.File, ["reason"] = e.Reason }).ToArray()),
            });
        else
            Console.Out.WriteLine($"{result.Found} studies found: {result.Inserted} inserted, {result.Updated} updated, {result.Unchanged} unchanged, {result.Errors.Count} errors" +
                                  (result.Versions.Count > 0 ? $"; version {result.Versions[^1]}" : ""));
        if (!json && result.Fhir is { } f) Console.Out.WriteLine($"FHIR: {f.Resources} resources in {f.Files} files, {f.Events} events ({f.EventsChanged} new or changed), {f.Studies} imaging/document studies");
        return result.Errors.Count > 0 ? 1 : 0;
    }

    static int Search(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterCommands.Search(a, cluster);
        var text = a.Positional.Count > 0 ? string.Join(' ', a.Positional) : null;
        var imagePath = a.Get("image");
        if (text == null && imagePath == null) throw new UsageException("search needs TEXT, --image FILE, or both");
        byte[]? image = null;
        if (imagePath != null)
        {
            if (!File.Exists(imagePath)) throw new UsageException($"--image: no such file '{imagePath}'");
            image = File.ReadAllBytes(imagePath);
        }
        using var db = OpenDb(a);
        var query = db.Search(text, image);
        if (a.Get("where") is { } where) query.Where(where);
        if (a.Get("mode") is { } mode)
            query.Mode(mode switch
            {
                "bm25" => SearchMode.Bm25, "dense" => SearchMode.Dense, "hybrid" => SearchMode.Hybrid,
                _ => throw new UsageException($"--mode must be bm25, dense or hybrid, not '{mode}'"),
            });
        if (a.Long("limit") is { } limit) query.Limit((int)limit);
        if (a.Long("as-of") is { } asOf) query.AsOf(asOf);
        if (a.Flag("exact")) query.Exact();
        if (a.Flag("no-expansion")) query.Expansion(false);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var result = query.Execute();
        if (json) Console.Out.WriteLine(SearchResultJson.Serialize(result));
        else PrintSearch(result);
        return 0;
    }

    internal static void PrintSearch(SearchResult result, TextWriter? w = null)
    {
        w ??= Console.Out;
        if (result.Results.Count == 0) { w.WriteLine("  (no matching studies)"); return; }
        var rank = 0;
        foreach (var h in result.Results)
        {
            w.WriteLine($"{++rank,2}. {h.StudyId}  {h.Modality ?? "-"}  {h.ExamDate ?? "-"}  score {h.Score:0.####}  patient {h.PatientPseudoId[..12]}…");
            foreach (var m in h.Matches)
            {
                var text = m.Snippet ?? m.Text ?? (m.Kind == "image_slice" ? "(image slice)" : "");
                text = text.ReplaceLineEndings(" ");
                if (text.Length > 140) text = text[..140] + "…";
                w.WriteLine($"      {m.Kind,-17} {text}");
            }
        }
        w.WriteLine($"  ({result.TookMs:0.0} ms)");
    }

    static int Versions(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Versions(a, cluster);
        using var db = OpenDb(a);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var versions = db.Versions();
        if (json)
            WriteJson(new JsonObject
            {
                ["versions"] = new JsonArray(versions.Select(v => (JsonNode)new JsonObject
                    { ["version"] = v.Version, ["time"] = v.Time, ["author"] = v.Author, ["message"] = v.Message }).ToArray()),
            });
        else foreach (var v in versions) Console.Out.WriteLine($"{v.Version,5}  {v.Time}  {v.Author}  {v.Message}");
        return 0;
    }

    static int Restore(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterHistoryCommands.Restore(a, cluster);
        if (a.Positional.Count != 1 || !long.TryParse(a.Positional[0], out var version)) throw new UsageException("restore needs one version number");
        using var db = OpenDb(a);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var r = db.Restore(version);
        if (json) WriteJson(new JsonObject { ["version"] = r.Version, ["restored"] = version, ["changed"] = r.Inserted + r.Updated + r.Deleted });
        else Console.Out.WriteLine(r.Version == null ? $"version {version} is already current: nothing to do" : $"restored version {version} as version {r.Version}");
        return 0;
    }

    static int Export(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterHistoryCommands.Export(a, cluster);
        var format = a.Get("format") ?? throw new UsageException("export needs --format parquet|arrow|jsonl");
        var outPath = a.Get("out") ?? throw new UsageException("export needs --out PATH");
        using var db = OpenDb(a);
        var asOf = a.Long("as-of");
        var options = new ExportOptions { IncludeBlobs = !a.Flag("no-blobs"), IncludeSegments = a.Flag("segments") };
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var result = TableExporter.Export(db.Studies(asOf), db.ReadBlob, format, outPath, options);
        if (json) WriteJson(new JsonObject { ["out"] = outPath, ["format"] = format, ["rows"] = result.Rows });
        else Console.Out.WriteLine($"wrote {result.Rows} rows of {CasebookDb.TableName} to {outPath} ({format})");
        return 0;
    }

    static int Purge(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Purge(a, cluster);
        using var db = OpenDb(a);
        var patient = a.Get("patient");
        var pseudo = a.Get("pseudo-id");
        var study = a.Get("study");
        var issuer = a.Get("issuer") ?? StudyManifest.DefaultIssuer;
        var json = a.Flag("json");
        a.EnsureAllUsed();
        if (new[] { patient, pseudo, study }.Count(x => x != null) != 1) throw new UsageException("purge needs exactly one of --patient ID, --pseudo-id HEX, --study ID");
        var r = study != null ? db.PurgeStudy(study)
            : db.PurgePatient(pseudo ?? PatientPseudonym.Load(db.Options.KeyFile).Pseudonymise(issuer, patient!));
        if (json) WriteJson(new JsonObject { ["version"] = r.Version, ["target"] = r.Target, ["studies_removed"] = r.StudiesRemoved, ["rows_removed"] = r.RowsRemoved, ["blobs_removed"] = r.BlobsRemoved });
        else Console.Out.WriteLine($"purged {r.Target}: {r.StudiesRemoved} studies, {r.RowsRemoved} rows, {r.BlobsRemoved} blobs (recorded as version {r.Version})");
        return 0;
    }

    static int Stats(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Stats(a, cluster);
        using var db = OpenDb(a);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var s = db.Stats();
        var node = new JsonObject { ["version"] = s.Version, ["studies"] = s.Studies, ["segments"] = s.Segments, ["patients"] = s.Patients, ["versions"] = s.Versions, ["blobs"] = s.Blobs };
        if (json) WriteJson(node);
        else foreach (var (k, v) in node) Console.Out.WriteLine($"{k,-10} {v}");
        return 0;
    }

    static int Reembed(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterMaintenanceCommands.Reembed(a, cluster);
        var kind = a.Get("kind") ?? throw new UsageException("reembed needs --kind text|image");
        using var db = OpenDb(a);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var bar = new ProgressBar();
        var versions = db.Reembed(kind, progress: bar);
        bar.Finish();
        db.SaveIndexes();
        if (json) { WriteJson(new JsonObject { ["kind"] = kind, ["model"] = kind == "text" ? db.TextEmbedder.Model.Id : db.ImageEmbedder.Model.Id, ["versions"] = new JsonArray(versions.Select(v => (JsonNode)v).ToArray()) }); return 0; }
        Console.Out.WriteLine(versions.Count == 0 ? $"{kind} vectors already made by the configured model" : $"re-embedded {kind} vectors in versions {versions[0]}..{versions[^1]}");
        return 0;
    }

    static int Embed(Args a)
    {
        var image = a.Get("image");
        var models = a.Get("models");
        a.EnsureAllUsed();
        if (image != null)
        {
            var e = Casebook.Embed.EmbedderCache.Image(models);
            var v = e.Embed([File.ReadAllBytes(image)])[0];
            WriteJson(new JsonObject { ["model"] = e.Model.Id, ["vector"] = new JsonArray(v.Select(x => (JsonNode)x).ToArray()) });
            return 0;
        }
        var texts = a.Positional.Count > 0 ? a.Positional : ReadStdinLines();
        var embedder = Casebook.Embed.EmbedderCache.Text(models);
        foreach (var chunk in texts.Chunk(256))
        {
            var vectors = embedder.Embed(chunk);
            for (var i = 0; i < chunk.Length; i++)
                WriteJson(new JsonObject { ["model"] = embedder.Model.Id, ["text"] = chunk[i], ["vector"] = new JsonArray(vectors[i].Select(x => (JsonNode)x).ToArray()) });
        }
        return 0;
    }

    static List<string> ReadStdinLines()
    {
        var list = new List<string>();
        while (Console.In.ReadLine() is { } line) if (line.Length > 0) list.Add(line);
        return list;
    }

    static int Gc(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterMaintenanceCommands.Gc(a, cluster);
        using var db = OpenDb(a);
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var removed = db.CollectGarbage();
        if (json) WriteJson(new JsonObject { ["blobs_removed"] = removed });
        else Console.Out.WriteLine($"removed {removed} unreferenced blobs");
        return 0;
    }

    static int Eval(Args a)
    {
        if (a.Positional.Count == 0 || a.Positional[0] != "ir") throw new UsageException("usage: eval ir --docs D.tsv --queries Q.tsv --qrels R.qrel [--mode M] [--json]");
        var docs = a.Get("docs") ?? throw new UsageException("eval ir needs --docs D.tsv");
        var queries = a.Get("queries") ?? throw new UsageException("eval ir needs --queries Q.tsv");
        var qrels = a.Get("qrels") ?? throw new UsageException("eval ir needs --qrels R.qrel");
        var mode = a.Get("mode") ?? "hybrid";
        var json = a.Flag("json");
        var keep = a.Get("keep-db");
        var bm25Weight = double.Parse(a.Get("bm25-weight") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var denseWeight = double.Parse(a.Get("dense-weight") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var rrfK = (int)(a.Long("rrf-k") ?? 60);
        var expansion = !a.Flag("no-expansion");
        var expansionWeight = double.Parse(a.Get("expansion-weight") ?? "0.2", System.Globalization.CultureInfo.InvariantCulture);
        var feedback = (int)(a.Long("feedback") ?? 3);
        var feedbackWeight = double.Parse(a.Get("feedback-weight") ?? "0.5", System.Globalization.CultureInfo.InvariantCulture);
        a.EnsureAllUsed();
        var r = IrEvaluation.Run(docs, queries, qrels, mode, keep, new ProgressBar(),
            q => q.Fusion(bm25Weight, denseWeight, 1.0, rrfK).Expansion(expansion, expansionWeight).Feedback(feedback, feedbackWeight));
        var node = new JsonObject { ["ndcg@10"] = Math.Round(r.NdcgAt10, 4), ["recall@100"] = Math.Round(r.RecallAt100, 4), ["queries"] = r.Queries, ["mean_query_ms"] = Math.Round(r.MeanQueryMs, 3) };
        if (json) WriteJson(node);
        else foreach (var (k, v) in node) Console.Out.WriteLine($"{k,-14} {v}");
        return 0;
    }
}
