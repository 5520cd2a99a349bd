-- Reports failing (unwaived) any of the given checks, one row each, error level first.
SELECT partition_key,
       CASE WHEN bool_or(severity = 'error') THEN 'error' ELSE 'warn' END AS severity,
       string_agg(check_name, ', ' ORDER BY check_name) AS checks,
       min(message) AS first_message
FROM failing_checks
WHERE NOT waived AND list_contains(?::VARCHAR[], check_name)
GROUP BY partition_key
ORDER BY bool_or(severity = 'error') DESC, partition_key;
