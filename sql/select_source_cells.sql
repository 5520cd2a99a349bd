-- The cells sources.py compares: those of the staged reports that have a twin, and those of
-- their references (the twins listed by select_source_reports.sql, staged or not).
SELECT c.report_id, c.table_name, c.row_key, c.column_key, c.value, c.raw, c.source_line, c.page, c.how, c.candidates
FROM report_cells c
WHERE c.report_id IN (SELECT report_id FROM stage_source_cell_ids);
