-- Analyst-facing views over the contract tables.
-- Every cell with the value an analyst should use and where it comes from: the report's own
-- reading (read · split), else what its twin file decided (sources.py, cell_comparisons):
-- 'agreement' (unresolved here, the twin's reading is one of this cell's candidates) or
-- 'other_source' (missing here, read in the twin only). A cell some twin disagrees on is
-- never decided. The report's own row in report_cells is unchanged.
CREATE OR REPLACE VIEW cells_decided AS
WITH d AS (
    SELECT DISTINCT ON (report_id, table_name, row_key, column_key) *
    FROM cell_comparisons k
    WHERE outcome IN ('decided', 'filled')
      AND NOT EXISTS (SELECT 1 FROM cell_comparisons x WHERE x.outcome = 'differ'
                      AND x.report_id = k.report_id AND x.table_name = k.table_name AND x.row_key = k.row_key AND x.column_key = k.column_key)
    ORDER BY report_id, table_name, row_key, column_key, outcome = 'decided' DESC, other_report_id
)
SELECT r.organ, r.organ_key, r.year, c.report_id, r.source_path, c.table_name, c.row_key, c.column_key,
       CASE WHEN c.how IN ('read', 'split') THEN c.value ELSE d.value END AS value,
       CASE WHEN c.how IN ('read', 'split') THEN c.how
            WHEN d.outcome = 'decided' THEN 'agreement'
            WHEN d.outcome = 'filled' THEN 'other_source'
            ELSE c.how END AS how,
       c.how AS own_how, c.raw, c.source_line, c.page, c.candidates,
       d.other_report_id AS decided_by, o.source_path AS decided_by_path,
       d.other_raw AS decided_raw, d.other_source_line AS decided_line, d.other_page AS decided_page, d.note AS decided_note
FROM report_cells c
JOIN reports r USING (report_id)
LEFT JOIN d USING (report_id, table_name, row_key, column_key)
LEFT JOIN reports o ON o.report_id = d.other_report_id;

-- One report per body and year, when several files hold it (a PDF and a text dump of it …).
-- The rule, first difference wins: (1) complete tables (status extracted, then partial, then
-- legacy/no_tables, then the rest); (2) fewer cells the file itself left unresolved or
-- missing; (3) fewer failing error-level checks (sources_agree aside: it fails both alike);
-- (4) the publisher's own document over a text made from it — PDF or DOCX, then HTML, then
-- plain text; (5) the lower report_id. `why` names the criterion that decided.
-- Reports without organ_key or year stand alone.
CREATE OR REPLACE VIEW report_choice AS
WITH s AS (
    SELECT r.report_id, r.organ, r.organ_key, r.year, r.source_path, r.status, r.form,
           coalesce(r.organ_key, 'report ' || r.report_id) AS body,
           CASE WHEN r.year IS NULL THEN r.report_id ELSE CAST(r.year AS VARCHAR) END AS year_key,
           CASE r.status WHEN 'extracted' THEN 0 WHEN 'partial' THEN 1 WHEN 'legacy' THEN 2 WHEN 'no_tables' THEN 2 ELSE 3 END AS status_rank,
           (SELECT count(*) FROM report_cells c WHERE c.report_id = r.report_id AND c.how IN ('unresolved', 'missing')) AS open_cells,
           (SELECT count(*) FROM check_results k WHERE k.report_id = r.report_id AND NOT k.passed AND k.severity = 'error'
                                                  AND k.check_name <> 'sources_agree') AS error_checks,
           CASE WHEN d.encoding LIKE 'pdf%' THEN 'pdf' WHEN d.encoding LIKE 'docx%' THEN 'docx'
                WHEN regexp_matches(left(d.raw_text, 4000), '(?i)<(html|table|body|!doctype)') THEN 'html'
                WHEN d.error IS NOT NULL THEN 'unread' ELSE 'text' END AS kind
    FROM reports r JOIN documents d USING (document_id)
),
ranked AS (
    SELECT *, row_number() OVER w AS choice_rank, count(*) OVER (PARTITION BY body, year_key) AS sources
    FROM (SELECT *, CASE kind WHEN 'pdf' THEN 0 WHEN 'docx' THEN 0 WHEN 'html' THEN 1 WHEN 'text' THEN 2 ELSE 3 END AS kind_rank FROM s)
    WINDOW w AS (PARTITION BY body, year_key ORDER BY status_rank, open_cells, error_checks, kind_rank, report_id)
),
vs AS (  -- each report beside the one it is ranked against: the chosen one beside the runner-up, the others beside the chosen
    SELECT a.*, b.source_path AS b_path, b.status AS b_status, b.status_rank AS b_status_rank, b.open_cells AS b_open_cells,
           b.error_checks AS b_error_checks, b.kind AS b_kind, b.kind_rank AS b_kind_rank
    FROM ranked a
    LEFT JOIN ranked b ON b.body = a.body AND b.year_key = a.year_key
                      AND b.choice_rank = CASE WHEN a.choice_rank = 1 THEN 2 ELSE 1 END
)
SELECT report_id, organ, organ_key, year, form, source_path, status, kind, open_cells, error_checks,
       sources, choice_rank, choice_rank = 1 AS chosen,
       CASE WHEN b_path IS NULL THEN '' WHEN choice_rank = 1 THEN 'chosen over ' || b_path || ': '
            ELSE 'not chosen: ' || b_path || ' ranks first: ' END
       || CASE WHEN b_path IS NULL THEN 'the only file of this body and year'
               WHEN status_rank <> b_status_rank THEN 'tables: ' || status || ' vs ' || b_status
               WHEN open_cells <> b_open_cells THEN 'cells unresolved or missing: ' || open_cells || ' vs ' || b_open_cells
               WHEN error_checks <> b_error_checks THEN 'failing error checks: ' || error_checks || ' vs ' || b_error_checks
               WHEN kind_rank <> b_kind_rank THEN 'the publisher''s document over a text made from it: ' || kind || ' vs ' || b_kind
               ELSE 'equal on every criterion: the lower report_id' END
       AS why
FROM vs;

-- Table 三 of the chosen report per body and year (report_choice), one row per form row,
-- columns as on the form; cells the chosen file left open are decided by its twin where the
-- twin can (cells_decided). `sources` says how many files hold this report,
-- `cells_from_other_source` how many of the row's cells came from a twin.
CREATE OR REPLACE VIEW applications_wide AS
SELECT ch.organ, ch.organ_key, r.division_code, ch.year, ch.form, c.report_id, c.row_key,
       max(CASE WHEN c.column_key = 'natural_person' THEN c.value END)        AS natural_person,
       max(CASE WHEN c.column_key = 'commercial_enterprise' THEN c.value END) AS commercial_enterprise,
       max(CASE WHEN c.column_key = 'research_institution' THEN c.value END)  AS research_institution,
       max(CASE WHEN c.column_key = 'social_welfare_org' THEN c.value END)    AS social_welfare_org,
       max(CASE WHEN c.column_key = 'legal_service_org' THEN c.value END)     AS legal_service_org,
       max(CASE WHEN c.column_key = 'other_org' THEN c.value END)             AS other_org,
       max(CASE WHEN c.column_key = 'total' THEN c.value END)                 AS total,
       ch.source_path, ch.sources, count(c.decided_by) AS cells_from_other_source
FROM cells_decided c
JOIN report_choice ch USING (report_id)
JOIN reports r USING (report_id)
WHERE c.table_name = 'applications' AND ch.chosen
GROUP BY ALL;

-- Every failed check. A waived finding stays visible here, marked waived (not failing).
CREATE OR REPLACE VIEW failing_checks AS
SELECT r.organ, r.organ_key, r.year, r.source_path, r.partition_key, k.*,
       w.report_id IS NOT NULL AS waived, w.reason AS waiver_reason, w.waived_by, w.waived_at
FROM check_results k
JOIN reports r USING (report_id)
LEFT JOIN (SELECT DISTINCT ON (report_id, check_name) * FROM waivers ORDER BY report_id, check_name, waived_at DESC) w
       USING (report_id, check_name)
WHERE NOT k.passed;

-- Where a reviewer starts: reports with unwaived error-level findings, most severe first
-- (most failing error checks, then the largest gap between expected and actual).
CREATE OR REPLACE VIEW review_queue AS
WITH f AS (
    SELECT *, try_cast(expected AS DECIMAL(38, 10)) AS e, try_cast(actual AS DECIMAL(38, 10)) AS a
    FROM failing_checks WHERE severity = 'error' AND NOT waived
)
SELECT organ, year, partition_key, report_id, source_path,
       count(*) AS error_checks,
       max(abs(e - a)) AS largest_gap,
       string_agg(check_name, ', ' ORDER BY check_name) AS checks,
       string_agg(check_name || ': expected ' || coalesce(expected, '?') || ', actual ' || coalesce(actual, '?')
                  || coalesce(' at ' || location, ''), '; ' ORDER BY check_name) AS numbers,
       min(message) AS first_message
FROM f
GROUP BY ALL
ORDER BY error_checks DESC, largest_gap DESC NULLS LAST, organ, year;

-- Waivers that match no failing check any more: the report changed, or the check passes now.
CREATE OR REPLACE VIEW stale_waivers AS
SELECT w.*,
       CASE WHEN r.report_id IS NULL THEN 'no such report in the store (the file changed or left the drop folder)'
            WHEN k.report_id IS NULL THEN 'the report has no check of that name'
            ELSE 'the check passes now' END AS why
FROM waivers w
LEFT JOIN reports r USING (report_id)
LEFT JOIN check_results k USING (report_id, check_name)
WHERE k.passed IS DISTINCT FROM false;
