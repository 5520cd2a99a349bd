-- The staged reports with their references: the first $1 other reports of the same body and
-- year (their twins, by report_id), and each one's file and form: report_id, organ_key, year, source_path, form, twins.
SELECT r.report_id, r.organ_key, r.year, r.source_path, r.form,
       list_slice(coalesce(list(t.report_id ORDER BY t.report_id) FILTER (WHERE t.report_id IS NOT NULL), []), 1, $1) AS twins
FROM reports r
LEFT JOIN reports t ON t.organ_key = r.organ_key AND t.year = r.year AND t.report_id <> r.report_id
WHERE r.report_id IN (SELECT report_id FROM stage_source_ids)
GROUP BY ALL
ORDER BY r.report_id;
