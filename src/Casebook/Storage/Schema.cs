namespace Casebook.Storage;

/// <summary>
/// The on-disk layout (SQLite, WAL). Rows are versioned in place: a study row is live from version
/// <c>v_from</c> until <c>v_to</c> (null = still live), so any version can be read by a validity predicate
/// and history is never rewritten (except by purge). Segments belong to one study row, so they share its
/// validity. FTS5 (porter) indexes segment text (for matches and snippets) and each study row's whole text (for
/// document-level BM25: measured better than ranking studies by their best paragraph); vectors live in the
/// segment rows and in index files beside.
/// </summary>
internal static class Schema
{
    /// <summary>Format of the database directory; bump with an upgrade step in <see cref="FormatUpgrade"/>.</summary>
    public const int FormatVersion = 4;

    public const string Create = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS versions(
            version INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            author TEXT NOT NULL,
            message TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS studies(
            row_id INTEGER PRIMARY KEY,
            study_id TEXT NOT NULL,
            v_from INTEGER NOT NULL,
            v_to INTEGER,
            content_hash TEXT NOT NULL,
            patient_pseudo_id TEXT NOT NULL,
            modality TEXT,
            exam_date TEXT,
            report_text TEXT,
            dicom_image TEXT, dicom_image_len INTEGER, dicom_mime TEXT,
            dictation_audio TEXT, dictation_audio_len INTEGER, dictation_audio_mime TEXT,
            report_pdf TEXT, report_pdf_len INTEGER,
            image_regions TEXT NOT NULL DEFAULT '[]',
            timeline_events TEXT NOT NULL DEFAULT '[]',
            sparse_terms TEXT NOT NULL DEFAULT '{}',
            clinical_codes TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            anatomical_regions TEXT NOT NULL DEFAULT '[]',
            pathology_findings TEXT NOT NULL DEFAULT '[]',
            risk_factors TEXT NOT NULL DEFAULT '[]');
        CREATE UNIQUE INDEX IF NOT EXISTS studies_live ON studies(study_id) WHERE v_to IS NULL;
        CREATE INDEX IF NOT EXISTS studies_history ON studies(study_id, v_from);
        CREATE INDEX IF NOT EXISTS studies_patient ON studies(patient_pseudo_id);
        CREATE INDEX IF NOT EXISTS studies_v_from ON studies(v_from);
        CREATE INDEX IF NOT EXISTS studies_v_to ON studies(v_to);
        CREATE TABLE IF NOT EXISTS segments(
            row_id INTEGER PRIMARY KEY,
            study_row_id INTEGER NOT NULL REFERENCES studies(row_id),
            study_id TEXT NOT NULL,
            segment_id TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            kind TEXT NOT NULL,
            text TEXT,
            source TEXT NOT NULL DEFAULT '{}',
            blob TEXT, blob_len INTEGER, blob_mime TEXT,
            text_vec BLOB, text_model TEXT,
            image_vec BLOB, image_model TEXT);
        CREATE INDEX IF NOT EXISTS segments_study ON segments(study_row_id);
        CREATE VIRTUAL TABLE IF NOT EXISTS segments_fts USING fts5(
            text, content='segments', content_rowid='row_id', tokenize='porter unicode61');
        CREATE TRIGGER IF NOT EXISTS segments_fts_insert AFTER INSERT ON segments WHEN new.text IS NOT NULL BEGIN
            INSERT INTO segments_fts(rowid, text) VALUES (new.row_id, new.text);
        END;
        CREATE TRIGGER IF NOT EXISTS segments_fts_delete AFTER DELETE ON segments WHEN old.text IS NOT NULL BEGIN
            INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.row_id, old.text);
        END;
        CREATE VIRTUAL TABLE IF NOT EXISTS studies_fts USING fts5(text, tokenize='porter unicode61');
        CREATE TABLE IF NOT EXISTS purges(
            purge_id INTEGER PRIMARY KEY,
            version INTEGER NOT NULL,
            time TEXT NOT NULL,
            author TEXT NOT NULL,
            target TEXT NOT NULL,
            studies_removed INTEGER NOT NULL,
            rows_removed INTEGER NOT NULL);
        -- Format 4: patient-level timeline events (FHIR), versioned like studies: live from v_from until v_to.
        CREATE TABLE IF NOT EXISTS patient_events(
            row_id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL,
            v_from INTEGER NOT NULL,
            v_to INTEGER,
            content_hash TEXT NOT NULL,
            patient_pseudo_id TEXT NOT NULL,
            time TEXT,
            time_end TEXT,
            precision TEXT,
            sort_time TEXT,
            type TEXT NOT NULL,
            code_system TEXT, code TEXT, display TEXT,
            value REAL, value_text TEXT, unit TEXT,
            canonical_value REAL, canonical_unit TEXT,
            abnormal INTEGER,
            abnormal_basis TEXT,
            status TEXT,
            missing TEXT NOT NULL DEFAULT '[]',
            study_id TEXT,
            source TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}');
        CREATE UNIQUE INDEX IF NOT EXISTS patient_events_live ON patient_events(event_id) WHERE v_to IS NULL;
        CREATE INDEX IF NOT EXISTS patient_events_patient ON patient_events(patient_pseudo_id, sort_time);
        CREATE INDEX IF NOT EXISTS patient_events_study ON patient_events(study_id);
        """;

    /// <summary>Rows of alias <c>s</c> valid at version <c>@asof</c>.</summary>
    public const string ValidAt = "s.v_from <= @asof AND (s.v_to IS NULL OR s.v_to > @asof)";

    public const string StudyColumns = """
        s.row_id, s.study_id, s.patient_pseudo_id, s.modality, s.exam_date, s.report_text,
        s.dicom_image, s.dicom_image_len, s.dicom_mime, s.dictation_audio, s.dictation_audio_len, s.dictation_audio_mime,
        s.report_pdf, s.report_pdf_len, s.image_regions, s.timeline_events, s.sparse_terms, s.clinical_codes, s.metadata,
        s.anatomical_regions, s.pathology_findings, s.risk_factors, s.content_hash
        """;

    public const string SegmentColumns = """
        g.row_id, g.study_row_id, g.segment_id, g.kind, g.text, g.source, g.blob, g.blob_len, g.blob_mime,
        g.text_vec, g.text_model, g.image_vec, g.image_model
        """;
}
