-- The staff browser's own face score on the identity review page (issue 17
-- §4): the console recomputes the match of a not_matched / liveness_failed
-- check-in with the same model; a disagreement with the phone's score is
-- flagged as possible tampering (listed among the identity signals, never
-- acted on automatically, R32).
ALTER TABLE checkins ADD COLUMN identity_console_score DOUBLE PRECISION;
ALTER TABLE checkins ADD COLUMN identity_console_by TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN identity_console_at TIMESTAMPTZ;
ALTER TABLE checkins ADD COLUMN identity_tamper BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE checkins ADD COLUMN identity_tamper_reason TEXT NOT NULL DEFAULT '';
