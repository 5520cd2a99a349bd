-- Remove every row of the reports whose ids are in the staged batch (replaced or gone).
DELETE FROM report_cells    WHERE report_id IN (SELECT report_id FROM stage_report_ids);
DELETE FROM prose_metrics   WHERE report_id IN (SELECT report_id FROM stage_report_ids);
DELETE FROM report_sections WHERE report_id IN (SELECT report_id FROM stage_report_ids);
DELETE FROM check_results   WHERE report_id IN (SELECT report_id FROM stage_report_ids);
DELETE FROM reports         WHERE report_id IN (SELECT report_id FROM stage_report_ids);
DELETE FROM documents       WHERE document_id IN (SELECT document_id FROM stage_report_ids);
