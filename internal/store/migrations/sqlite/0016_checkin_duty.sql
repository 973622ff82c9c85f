-- Issue 18 §2, §4: every failed check of a check-in is kept (checks, a
-- comma-joined list of verdicts; '' for none), and whether it discharged
-- the day's duty under the policy in force that day (counts, policy
-- checkin.counts, decided at ingest: a begun day's policy never changes).
-- Rows stored before kept only their first failed check: that one stays
-- their list, and they count under the default rule (ok, or synced late —
-- which then meant every other check had passed).
ALTER TABLE checkins ADD COLUMN checks TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN counts INTEGER NOT NULL DEFAULT 0;
UPDATE checkins SET checks = CASE WHEN verdict = 'ok' THEN '' ELSE verdict END,
    counts = CASE WHEN verdict IN ('ok', 'synced_late') THEN 1 ELSE 0 END;
-- A person's devices in time order: duty starts with the first (§4).
CREATE INDEX devices_person ON devices(person_id, activated_at);
