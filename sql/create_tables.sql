-- The store's contract (FORMS.md). Idempotent: run on every connection.
-- Any edit of this file changes the schema version: the writer then rebuilds the store.
CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS documents (
    document_id      VARCHAR PRIMARY KEY,   -- sha256 of the raw bytes, hex
    source_path      VARCHAR NOT NULL,      -- relative to the drop folder (first path seen)
    size_bytes       BIGINT NOT NULL,
    encoding         VARCHAR,               -- as detected; NULL when undecodable
    raw_text         VARCHAR,               -- decoded text (HTML: the markup)
    normalized_text  VARCHAR,
    repairs          VARCHAR,               -- JSON list of what normalization changed
    ingested_at      TIMESTAMP NOT NULL,
    error            VARCHAR,               -- NULL unless the file could not be read or parsed
    pipeline_version VARCHAR
);
CREATE TABLE IF NOT EXISTS file_index (   -- every path in the drop folder and its content
    source_path  VARCHAR PRIMARY KEY,
    size_bytes   BIGINT NOT NULL,
    mtime_ns     BIGINT NOT NULL,
    document_id  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    report_id     VARCHAR PRIMARY KEY,
    document_id   VARCHAR NOT NULL,
    organ         VARCHAR,
    year          INTEGER,
    form          VARCHAR,                  -- 2019 · 2021 · legacy (NULL: unreadable)
    form_basis    VARCHAR,                  -- tables · citation · year …
    source_script VARCHAR,                  -- simplified · traditional · mixed
    status        VARCHAR,                  -- extracted · partial · no_tables · legacy · error
    title         VARCHAR,
    source_path   VARCHAR,
    partition_key VARCHAR,                  -- the report's Dagster partition: year·organ·hash (keys.py)
    organ_key     VARCHAR,                  -- one identity per body: place in full + body, short forms expanded (organs.py)
    division_code VARCHAR,                  -- GB/T 2260 code of the body's place (province/city/county), when the gazetteer gives one
    cells_digest  VARCHAR                   -- digest of every field of every cell ('' when none): equal digests, identical readings (sources.py compares them once)
);
CREATE TABLE IF NOT EXISTS report_cells (
    report_id    VARCHAR NOT NULL,
    table_name   VARCHAR NOT NULL,
    row_key      VARCHAR NOT NULL,
    column_key   VARCHAR NOT NULL,
    value        DECIMAL(38, 10),           -- exact; NULL when blank, missing or unresolved
    raw          VARCHAR,
    source_line  INTEGER,
    page         INTEGER,                   -- PDF input: the page the cell was printed on (NULL for text)
    how          VARCHAR NOT NULL,          -- read · split · ocr · ocr, decided by … · unresolved · missing
    candidates   VARCHAR,                   -- unresolved: the readings that survive
    note         VARCHAR,
    row_label    VARCHAR,
    column_label VARCHAR,
    confidence   DOUBLE,                    -- OCR'd cell: the engine's confidence in its least sure character
    box          VARCHAR                    -- OCR'd cell: x0,y0,x1,y1 in the page picture (pixels), on `page`
);
CREATE TABLE IF NOT EXISTS prose_metrics (
    report_id   VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,
    value       BIGINT,
    unit        VARCHAR,
    source_line INTEGER,
    sentence    VARCHAR,
    origin      VARCHAR,                    -- prose · stat_table
    note        VARCHAR
);
CREATE TABLE IF NOT EXISTS report_sections (
    report_id  VARCHAR NOT NULL,
    section_no INTEGER NOT NULL,
    title      VARCHAR,
    start_line INTEGER,
    end_line   INTEGER
);
CREATE TABLE IF NOT EXISTS check_results (
    report_id  VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    severity   VARCHAR NOT NULL,            -- error · warn
    passed     BOOLEAN NOT NULL,
    expected   VARCHAR,
    actual     VARCHAR,
    location   VARCHAR,
    message    VARCHAR,
    details    VARCHAR                      -- JSON rows behind the message
);
CREATE TABLE IF NOT EXISTS waivers (       -- findings a reviewer marked as known source errors (from the waivers file)
    report_id  VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,
    waived_by  VARCHAR,
    waived_at  VARCHAR,
    organ      VARCHAR,                    -- as written in the file, for people reading it
    year       INTEGER
);
CREATE TABLE IF NOT EXISTS refused_entries ( -- drop-folder entries not read, as of the last scan
    source_path VARCHAR NOT NULL,           -- relative; non-UTF-8 bytes written as \xNN
    kind        VARCHAR NOT NULL,           -- symlink · fifo · socket · device · hidden · vanished · unreadable · name_clash · page_assets
    reason      VARCHAR NOT NULL            -- one line
);
CREATE TABLE IF NOT EXISTS report_pairs (  -- two reports of the same body and year (two files, one report): one row each way
    report_id       VARCHAR NOT NULL,
    other_report_id VARCHAR NOT NULL,
    organ_key       VARCHAR NOT NULL,
    year            INTEGER NOT NULL,
    cells_compared  INTEGER NOT NULL,       -- cells of the form both reports have
    cells_equal     INTEGER NOT NULL,       -- read in both, same value
    cells_decided   INTEGER NOT NULL,       -- unresolved in report_id, the other's reading is one of its candidates
    cells_filled    INTEGER NOT NULL,       -- missing in report_id, read in the other
    cells_differ    INTEGER NOT NULL,       -- a disagreement (fails sources_agree for both)
    cells_open      INTEGER NOT NULL,       -- unresolved here, read there, but not matchable to the candidates
    same_report     BOOLEAN NOT NULL        -- false when more than half the compared cells differ: two different reports under one
                                            -- body and year, so nothing is decided or filled from the other, and cell_comparisons has no rows for it
);
CREATE TABLE IF NOT EXISTS cell_comparisons ( -- what the other source says about a cell of report_id that is not simply equal (sources.py)
    report_id         VARCHAR NOT NULL,
    other_report_id   VARCHAR NOT NULL,
    table_name        VARCHAR NOT NULL,
    row_key           VARCHAR NOT NULL,
    column_key        VARCHAR NOT NULL,
    outcome           VARCHAR NOT NULL,     -- decided · filled · differ · open
    value             DECIMAL(38, 10),      -- decided/filled: the value the other source gives the cell
    own_value         DECIMAL(38, 10),
    own_raw           VARCHAR,
    own_how           VARCHAR,
    own_source_line   INTEGER,
    own_page          INTEGER,
    own_candidates    VARCHAR,
    other_value       DECIMAL(38, 10),
    other_raw         VARCHAR,
    other_how         VARCHAR,
    other_source_line INTEGER,
    other_page        INTEGER,
    note              VARCHAR               -- why this outcome
);
