-- Reports whose sources_agree check is recomputed (sources.py). Each report is compared with
-- the first ? other reports of its body and year by report_id (its references), so a batch
-- changes other reports' results only when one of its reports ranks among the first ?+1 of its
-- group, or a report of the group left the store: then the whole group is redone; otherwise
-- only the batch's own reports are.
CREATE OR REPLACE TEMP TABLE stage_source_ids AS
WITH ranked AS (
    SELECT report_id, organ_key, year,
           row_number() OVER (PARTITION BY organ_key, year ORDER BY report_id) AS rank
    FROM reports WHERE organ_key IS NOT NULL AND year IS NOT NULL
),
changed_groups AS (
    SELECT organ_key, year FROM ranked
    WHERE report_id IN (SELECT report_id FROM source_batch_ids) AND rank <= $1 + 1
    UNION
    SELECT b.organ_key, b.year FROM reports b
    WHERE b.report_id IN (SELECT report_id FROM report_pairs WHERE other_report_id NOT IN (SELECT report_id FROM reports))
)
SELECT report_id FROM reports WHERE report_id IN (SELECT report_id FROM source_batch_ids)
UNION
SELECT r.report_id FROM ranked r JOIN changed_groups g ON r.organ_key = g.organ_key AND r.year = g.year;
