-- Reports whose unwaived failures are all warnings (not in the review queue).
SELECT count(DISTINCT report_id) FROM failing_checks f
WHERE NOT waived AND NOT EXISTS (
    SELECT 1 FROM failing_checks e WHERE e.report_id = f.report_id AND e.severity = 'error' AND NOT e.waived);
