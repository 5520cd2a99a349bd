-- Forget what the staged reports' sources said about each other (and anything naming a report
-- that left the store) before sources.py writes it afresh.
DELETE FROM report_pairs
WHERE report_id IN (SELECT report_id FROM stage_source_ids) OR other_report_id IN (SELECT report_id FROM stage_source_ids)
   OR report_id NOT IN (SELECT report_id FROM reports) OR other_report_id NOT IN (SELECT report_id FROM reports);
DELETE FROM cell_comparisons
WHERE report_id IN (SELECT report_id FROM stage_source_ids) OR other_report_id IN (SELECT report_id FROM stage_source_ids)
   OR report_id NOT IN (SELECT report_id FROM reports) OR other_report_id NOT IN (SELECT report_id FROM reports);
DELETE FROM check_results WHERE check_name = 'sources_agree' AND report_id IN (SELECT report_id FROM stage_source_ids);
