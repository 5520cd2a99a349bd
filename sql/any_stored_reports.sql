-- Whether any report staged for replacement is in the store (a report's rows are only ever
-- present with its reports and documents rows: each batch is one transaction). A fresh batch
-- skips delete_reports.sql, whose deletes scan every table.
SELECT EXISTS (SELECT 1 FROM reports WHERE report_id IN (SELECT report_id FROM stage_report_ids))
    OR EXISTS (SELECT 1 FROM documents WHERE document_id IN (SELECT document_id FROM stage_report_ids));
