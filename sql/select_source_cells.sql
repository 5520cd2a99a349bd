-- The cells of the staged reports that have a twin (same body and year), for sources.py to
-- compare; reports without one need none.
SELECT c.report_id, c.table_name, c.row_key, c.column_key, c.value, c.raw, c.source_line, c.page, c.how, c.candidates
FROM report_cells c
WHERE c.report_id IN (
    SELECT r.report_id FROM reports r JOIN reports t
      ON t.organ_key = r.organ_key AND t.year = r.year AND t.report_id <> r.report_id
    WHERE r.report_id IN (SELECT report_id FROM stage_source_ids)
);
