-- The store's own integrity, one row: duplicate cell keys, documents without a report,
-- reports without a document, reports missing some of the thirteen checks.
SELECT
    (SELECT count(*) FROM (SELECT report_id, table_name, row_key, column_key FROM report_cells GROUP BY ALL HAVING count(*) > 1)) AS duplicate_cell_keys,
    (SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.document_id = d.document_id)) AS documents_without_report,
    (SELECT count(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.document_id = r.document_id)) AS reports_without_document,
    (SELECT count(*) FROM (SELECT r.report_id FROM reports r LEFT JOIN check_results k USING (report_id)
                           GROUP BY r.report_id HAVING count(DISTINCT k.check_name) < ?)) AS reports_missing_checks;
