-- Issue 10 (R2, R11, R13, R15).
-- reported_on: the date the person reported for the current report
-- deadline (the first report-in, or the report at a new place after a
-- transfer, R11); NULL while that report is awaited. Lateness (R2) is
-- judged from report_deadline against it, not from the status.
ALTER TABLE measures ADD COLUMN reported_on TEXT;
-- R13: days the term's clock stood still (policy term.suspension_clock =
-- pause), and whether the suspension under way pauses it (decided on its
-- first day from the policy then in force).
ALTER TABLE measures ADD COLUMN paused_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE measures ADD COLUMN suspension_pauses INTEGER NOT NULL DEFAULT 0;
-- R15: the police's release notice (解除通知书) and the township's
-- notification within 7 days: due date set at release, recorded date and
-- recipient. Releases before this migration have no due date (no task).
ALTER TABLE measures ADD COLUMN release_notice_due TEXT;
ALTER TABLE measures ADD COLUMN release_notice_on TEXT;
ALTER TABLE measures ADD COLUMN release_notice_to TEXT NOT NULL DEFAULT '';

UPDATE measures SET reported_on = COALESCE(
    (SELECT MAX(e.effective_date) FROM status_events e WHERE e.measure_id = measures.id AND e.action = 'report_in'),
    report_date)
WHERE status <> 'pending_report' AND report_date IS NOT NULL;
