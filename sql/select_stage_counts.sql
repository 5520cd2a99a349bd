-- One row of counts describing each stage of the store, for the stage assets' metadata.
SELECT
    (SELECT count(*) FROM documents)                                        AS documents,
    (SELECT count(*) FROM documents WHERE error IS NOT NULL)                AS unreadable,
    (SELECT count(*) FROM documents WHERE encoding <> 'utf-8')              AS non_utf8,
    (SELECT count(*) FROM documents WHERE repairs IS NOT NULL AND repairs <> '[]') AS repaired,
    (SELECT count(*) FROM reports WHERE source_script = 'traditional')      AS traditional,
    (SELECT count(*) FROM reports WHERE source_script = 'mixed')            AS mixed_script,
    (SELECT count(*) FROM reports WHERE status = 'extracted')               AS extracted,
    (SELECT count(*) FROM reports WHERE status = 'partial')                 AS partial,
    (SELECT count(*) FROM reports WHERE status IN ('legacy', 'no_tables', 'unknown')) AS without_tables,
    (SELECT count(*) FROM report_cells WHERE how = 'unresolved')            AS unresolved_cells,
    (SELECT count(*) FROM report_cells WHERE how = 'split')                 AS split_cells,
    (SELECT count(*) FROM review_queue)                                     AS reports_to_review,
    (SELECT count(*) FROM stale_waivers)                                    AS stale_waivers;
