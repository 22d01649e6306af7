-- A Casebook database in format 1 (pre-release layout: no report_pdf, no extracted-feature columns),
-- kept so that the upgrade path to the current format stays tested.
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('format_version', '1'), ('created', '2026-11-01T00:00:00.000Z');
CREATE TABLE versions(version INTEGER PRIMARY KEY, time TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL);
INSERT INTO versions VALUES (1, '2026-11-01T00:00:00.000Z', 'format1-fixture', 'ingest 1 studies');
CREATE TABLE studies(
    row_id INTEGER PRIMARY KEY, study_id TEXT NOT NULL, v_from INTEGER NOT NULL, v_to INTEGER,
    content_hash TEXT NOT NULL, patient_pseudo_id TEXT NOT NULL, modality TEXT, exam_date TEXT, report_text TEXT,
    dicom_image TEXT, dicom_image_len INTEGER, dicom_mime TEXT,
    dictation_audio TEXT, dictation_audio_len INTEGER, dictation_audio_mime TEXT,
    image_regions TEXT NOT NULL DEFAULT '[]', timeline_events TEXT NOT NULL DEFAULT '[]',
    sparse_terms TEXT NOT NULL DEFAULT '{}', clinical_codes TEXT NOT NULL DEFAULT '[]', metadata TEXT NOT NULL DEFAULT '{}');
INSERT INTO studies(row_id, study_id, v_from, v_to, content_hash, patient_pseudo_id, modality, exam_date, report_text)
VALUES (1, 'OLD-1', 1, NULL, 'format1-hash', '4f1c0e0e4c7a', 'CR', '2023-05-01', 'FINDINGS: No acute disease.');
CREATE TABLE segments(
    row_id INTEGER PRIMARY KEY, study_row_id INTEGER NOT NULL REFERENCES studies(row_id), study_id TEXT NOT NULL,
    segment_id TEXT NOT NULL, ordinal INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT, source TEXT NOT NULL DEFAULT '{}',
    blob TEXT, blob_len INTEGER, blob_mime TEXT, text_vec BLOB, text_model TEXT, image_vec BLOB, image_model TEXT);
INSERT INTO segments(row_id, study_row_id, study_id, segment_id, ordinal, kind, text, source)
VALUES (1, 1, 'OLD-1', 'OLD-1/report_paragraph/0', 0, 'report_paragraph', 'FINDINGS: No acute disease.', '{"section":"FINDINGS","char_start":0,"char_end":27}');
