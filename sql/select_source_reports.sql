-- The staged reports with their references: the first $1 other reports of the same body and
-- year (their twins, by report_id), and each one's file and form: report_id, organ_key, year,
-- source_path, form, twins. Only the first $1 + 1 of each group are listed (a group of n
-- copies costs n rows, not n²); dropping the report itself leaves its first $1 others.
WITH groups AS (
    SELECT DISTINCT organ_key, year FROM reports
    WHERE report_id IN (SELECT report_id FROM stage_source_ids) AND organ_key IS NOT NULL AND year IS NOT NULL
),
firsts AS (
    SELECT organ_key, year, list(report_id ORDER BY report_id) AS firsts
    FROM (
        SELECT r.organ_key, r.year, r.report_id FROM reports r SEMI JOIN groups g ON r.organ_key = g.organ_key AND r.year = g.year
        QUALIFY row_number() OVER (PARTITION BY r.organ_key, r.year ORDER BY r.report_id) <= $1 + 1
    )
    GROUP BY ALL
)
SELECT r.report_id, r.organ_key, r.year, r.source_path, r.form,
       coalesce(list_slice(list_filter(f.firsts, lambda x: x <> r.report_id), 1, $1), []) AS twins
FROM reports r
LEFT JOIN firsts f ON f.organ_key = r.organ_key AND f.year = r.year
WHERE r.report_id IN (SELECT report_id FROM stage_source_ids)
ORDER BY r.report_id;
