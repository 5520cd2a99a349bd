-- Cross-report identities for the given reports: last year's carried_over_out must be this
-- year's carried_over_in (carry_over_continuity), and the normative-documents stock must roll
-- forward (normative_documents_stock, a warning). One row per report with a prior year.
WITH cur AS (
    SELECT r.report_id, r.organ_key, r.year FROM reports r
    WHERE r.report_id IN (SELECT report_id FROM stage_check_ids) AND r.organ_key IS NOT NULL AND r.year IS NOT NULL
),
prev AS (
    SELECT cur.report_id, p.report_id AS prev_report_id, p.year AS prev_year
    FROM cur JOIN reports p ON p.organ_key = cur.organ_key AND p.year = cur.year - 1 AND p.form IN ('2019', '2021')
    QUALIFY row_number() OVER (PARTITION BY cur.report_id ORDER BY p.report_id) = 1
)
SELECT prev.report_id, prev.prev_report_id, prev.prev_year,
       (SELECT value FROM report_cells c WHERE c.report_id = prev.report_id AND c.table_name = 'applications' AND c.row_key = 'carried_over_in' AND c.column_key = 'total') AS carried_in,
       (SELECT value FROM report_cells c WHERE c.report_id = prev.prev_report_id AND c.table_name = 'applications' AND c.row_key = 'carried_over_out' AND c.column_key = 'total') AS prev_carried_out,
       (SELECT value FROM report_cells c WHERE c.report_id = prev.report_id AND c.table_name = 'active_disclosure' AND c.row_key = 'normative_documents' AND c.column_key = 'in_force') AS in_force,
       (SELECT value FROM report_cells c WHERE c.report_id = prev.report_id AND c.table_name = 'active_disclosure' AND c.row_key = 'normative_documents' AND c.column_key = 'issued') AS issued,
       (SELECT value FROM report_cells c WHERE c.report_id = prev.report_id AND c.table_name = 'active_disclosure' AND c.row_key = 'normative_documents' AND c.column_key = 'repealed') AS repealed,
       (SELECT value FROM report_cells c WHERE c.report_id = prev.prev_report_id AND c.table_name = 'active_disclosure' AND c.row_key = 'normative_documents' AND c.column_key = 'in_force') AS prev_in_force
FROM prev;
