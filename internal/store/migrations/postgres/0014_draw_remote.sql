-- A test day inside approved leave (issue 10 §5, R22, R9). The draw avoids
-- leave days when its window has others (those days are written into
-- excluded, so verify-draws recomputes the draw as before); when the whole
-- window lies in leave the day is kept and becomes a remote test: at a
-- police station or hospital at the destination, the report uploaded.
ALTER TABLE test_draws ADD COLUMN remote BOOLEAN NOT NULL DEFAULT FALSE;
