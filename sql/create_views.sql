-- Analyst-facing views over the contract tables.
CREATE OR REPLACE VIEW applications_wide AS
SELECT r.organ, r.year, r.form, c.report_id, c.row_key,
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

CREATE OR REPLACE VIEW failing_checks AS
SELECT r.organ, r.year, r.source_path, k.*
FROM check_results k JOIN reports r USING (report_id)
WHERE NOT k.passed;
