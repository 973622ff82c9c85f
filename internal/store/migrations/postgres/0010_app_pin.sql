-- The app's PIN may be changed with the old one (issue 4 §3); wrong old
-- PINs are counted and lock the change for a while.
ALTER TABLE devices ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN pin_locked_until TIMESTAMPTZ;
ALTER TABLE devices ADD COLUMN pin_changed_at TIMESTAMPTZ;
