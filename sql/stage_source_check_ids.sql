-- Reports whose sources_agree check is recomputed (sources.py): the batch's, the other reports
-- of the same body and year, and the reports of a body and year whose twin left the store
-- (their report_pairs row names a report that is gone).
CREATE OR REPLACE TEMP TABLE stage_source_ids AS
SELECT report_id FROM reports WHERE report_id IN (SELECT report_id FROM source_batch_ids)
UNION
SELECT t.report_id FROM reports t JOIN reports b ON t.organ_key = b.organ_key AND t.year = b.year
WHERE b.report_id IN (SELECT report_id FROM source_batch_ids)
UNION
SELECT t.report_id FROM reports t JOIN reports b ON t.organ_key = b.organ_key AND t.year = b.year
WHERE b.report_id IN (SELECT report_id FROM report_pairs WHERE other_report_id NOT IN (SELECT report_id FROM reports));
