-- Analyst-facing views over the contract tables.
CREATE OR REPLACE VIEW applications_wide AS
SELECT r.organ, r.organ_key, r.division_code, r.year, r.form, c.report_id, c.row_key,
       max(CASE WHEN c.column_key = 'natural_person' THEN c.value END)        AS natural_person,
       max(CASE WHEN c.column_key = 'commercial_enterprise' THEN c.value END) AS commercial_enterprise,
       max(CASE WHEN c.column_key = 'research_institution' THEN c.value END)  AS research_institution,
       max(CASE WHEN c.column_key = 'social_welfare_org' THEN c.value END)    AS social_welfare_org,
       max(CASE WHEN c.column_key = 'legal_service_org' THEN c.value END)     AS legal_service_org,
       max(CASE WHEN c.column_key = 'other_org' THEN c.value END)             AS other_org,
       max(CASE WHEN c.column_key = 'total' THEN c.value END)                 AS total
FROM report_cells c JOIN reports r USING (report_id)
WHERE c.table_name = 'applications'
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
