-- Cross-report identities for the given reports: last year's carried_over_out must be this
-- year's carried_over_in (carry_over_continuity), and the normative-documents stock must roll
-- forward (normative_documents_stock, a warning). One row per report with a prior year.
-- The six figures come from one pass over report_cells (the reports and cells involved only).
WITH cur AS (
    SELECT r.report_id, r.organ_key, r.year FROM reports r
    WHERE r.report_id IN (SELECT report_id FROM stage_check_ids) AND r.organ_key IS NOT NULL AND r.year IS NOT NULL
),
prev AS (
    SELECT cur.report_id, p.report_id AS prev_report_id, p.year AS prev_year
    FROM cur JOIN reports p ON p.organ_key = cur.organ_key AND p.year = cur.year - 1 AND p.form IN ('2019', '2021')
    QUALIFY row_number() OVER (PARTITION BY cur.report_id ORDER BY p.report_id) = 1
),
figures AS (
    SELECT report_id,
           any_value(value) FILTER (WHERE table_name = 'applications' AND row_key = 'carried_over_in' AND column_key = 'total') AS carried_in,
           any_value(value) FILTER (WHERE table_name = 'applications' AND row_key = 'carried_over_out' AND column_key = 'total') AS carried_out,
           any_value(value) FILTER (WHERE table_name = 'active_disclosure' AND row_key = 'normative_documents' AND column_key = 'in_force') AS in_force,
           any_value(value) FILTER (WHERE table_name = 'active_disclosure' AND row_key = 'normative_documents' AND column_key = 'issued') AS issued,
           any_value(value) FILTER (WHERE table_name = 'active_disclosure' AND row_key = 'normative_documents' AND column_key = 'repealed') AS repealed
    FROM report_cells
    WHERE report_id IN (SELECT report_id FROM prev UNION SELECT prev_report_id FROM prev)
      AND ((table_name = 'applications' AND row_key IN ('carried_over_in', 'carried_over_out') AND column_key = 'total')
        OR (table_name = 'active_disclosure' AND row_key = 'normative_documents' AND column_key IN ('in_force', 'issued', 'repealed')))
    GROUP BY report_id
)
SELECT prev.report_id, prev.prev_report_id, prev.prev_year,
       c.carried_in, p.carried_out AS prev_carried_out, c.in_force, c.issued, c.repealed, p.in_force AS prev_in_force
FROM prev
LEFT JOIN figures c ON c.report_id = prev.report_id
LEFT JOIN figures p ON p.report_id = prev.prev_report_id;
