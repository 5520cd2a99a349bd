-- The reports of the year after the staged reports' (same body): their cross-report checks
-- read the staged reports, so they are redone when those are replaced or leave the store.
SELECT DISTINCT n.report_id
FROM reports n JOIN reports b ON n.organ_key = b.organ_key AND n.year = b.year + 1
WHERE b.report_id IN (SELECT report_id FROM stage_report_ids)
  AND n.report_id NOT IN (SELECT report_id FROM stage_report_ids);
