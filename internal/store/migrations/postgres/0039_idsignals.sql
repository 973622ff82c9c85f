-- Staff spot checks of identity at check-in (issue 17 §4; R26, R32): each
-- worker's persons' check-ins of an ISO week are sampled after the week
-- ends (policy identity.spot_check_percent), drawn verifiably like the test
-- days: a check-in's score is HMAC-SHA256(seed of the township of the
-- check-in's org for the month of the week's Sunday,
-- "spotcheck|worker|week|checkin id") and the lowest scores are drawn.
-- population keeps every candidate ("checkin_id seed_org_id" per line), so
-- anyone with the revealed seeds recomputes the sample.
CREATE TABLE spot_check_samples (
    id         TEXT PRIMARY KEY,
    worker_id  TEXT NOT NULL REFERENCES users(id),
    week       TEXT NOT NULL,            -- ISO week, 2026-W49
    week_from  TEXT NOT NULL,            -- its Monday
    week_to    TEXT NOT NULL,            -- its Sunday
    period     TEXT NOT NULL,            -- the seed month: the Sunday's, YYYY-MM
    percent    INTEGER NOT NULL,
    size       INTEGER NOT NULL,         -- items drawn
    population TEXT NOT NULL,
    drawn_at   TIMESTAMPTZ NOT NULL,
    -- 'drawn' by the seeds, or 'added' by a lead by hand with a reason
    -- (week is then "added:<item id>"; not part of the verification).
    kind       TEXT NOT NULL DEFAULT 'drawn',
    reason     TEXT NOT NULL DEFAULT '',
    added_by   TEXT NOT NULL DEFAULT '',
    UNIQUE (worker_id, week)
);

-- One sampled check-in: the worker looks at it side by side (reference
-- photo | selfie | the phone's score) and the staff browser recomputes the
-- score (console_score); a disagreement is flagged as possible tampering.
CREATE TABLE spot_check_items (
    id             TEXT PRIMARY KEY,
    sample_id      TEXT NOT NULL REFERENCES spot_check_samples(id),
    checkin_id     TEXT NOT NULL REFERENCES checkins(id),
    person_id      TEXT NOT NULL REFERENCES persons(id),
    seed_org_id    TEXT NOT NULL,
    console_score  DOUBLE PRECISION,
    console_by     TEXT NOT NULL DEFAULT '',
    console_at     TIMESTAMPTZ,
    tamper         BOOLEAN NOT NULL DEFAULT FALSE,
    tamper_reason  TEXT NOT NULL DEFAULT '',
    looked         TEXT NOT NULL DEFAULT '',   -- '' | same | not_same | unclear
    looked_note    TEXT NOT NULL DEFAULT '',
    looked_by      TEXT NOT NULL DEFAULT '',
    looked_at      TIMESTAMPTZ,
    UNIQUE (sample_id, checkin_id)
);
CREATE INDEX spot_check_items_person ON spot_check_items(person_id);
