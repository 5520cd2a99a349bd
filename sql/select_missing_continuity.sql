-- Reports without their cross-report check rows: a run was killed between loading them and
-- the continuity step. The next run redoes the step for them (and their next-year reports).
SELECT report_id FROM reports
WHERE report_id NOT IN (SELECT report_id FROM check_results WHERE check_name = 'carry_over_continuity')
   OR report_id NOT IN (SELECT report_id FROM check_results WHERE check_name = 'sources_agree')
ORDER BY report_id;
