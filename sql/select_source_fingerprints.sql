-- One fingerprint per report's cell set (every field of every cell, in key order), for the
-- reports sources.py compares: copies with equal fingerprints are read and compared once.
SELECT w.report_id,
       coalesce(md5(string_agg(concat_ws('|', c.table_name, c.row_key, c.column_key, coalesce(c.value::VARCHAR, '∅'),
                                         coalesce(c.raw, '∅'), coalesce(c.source_line::VARCHAR, '∅'), coalesce(c.page::VARCHAR, '∅'),
                                         c.how, coalesce(c.candidates, '∅')), chr(10)
                               ORDER BY c.table_name, c.row_key, c.column_key)), '') AS fingerprint
FROM stage_source_cell_ids w LEFT JOIN report_cells c USING (report_id)
GROUP BY w.report_id;
