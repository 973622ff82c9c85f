-- Verifiable random test draws (issue 5 §1–2, R22–R24). One secret seed per
-- seed org (township/street) and calendar month: its SHA-256 is committed
-- months before the month starts, the seed is sealed with the vault until
-- the month has ended, then revealed in clear so anyone can recompute.
CREATE TABLE draw_seeds (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    period       TEXT NOT NULL,            -- local calendar month, YYYY-MM
    seed_hash    TEXT NOT NULL,            -- hex SHA-256 of the seed: the commitment
    seed_enc     TEXT NOT NULL,            -- the seed, sealed (R36 vault)
    seed         TEXT,                     -- hex, revealed after the period ended
    committed_at DATETIME NOT NULL,
    revealed_at  DATETIME,
    PRIMARY KEY (org_id, period)
);

-- Test days: drawn (scheduled: one per interval; surprise: one per term
-- segment) with everything a recomputation needs, or forced by a lead.
CREATE TABLE test_draws (
    id             TEXT PRIMARY KEY,
    person_id      TEXT NOT NULL REFERENCES persons(id),
    measure_id     TEXT NOT NULL REFERENCES measures(id),
    kind           TEXT NOT NULL,          -- scheduled, surprise, forced
    seed_org_id    TEXT NOT NULL DEFAULT '',
    interval_from  TEXT NOT NULL,          -- the interval or segment (a forced day: the day)
    interval_to    TEXT NOT NULL,
    win_from       TEXT NOT NULL,          -- eligible window (from the day the draw was made)
    win_to         TEXT NOT NULL,
    excluded       TEXT NOT NULL DEFAULT '', -- days not eligible: suspension, other drawn days
    day            TEXT NOT NULL,
    period         TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '', -- why a lead forced the day
    excused_reason TEXT NOT NULL DEFAULT '',
    excused_by     TEXT NOT NULL DEFAULT '',
    excused_at     DATETIME,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    UNIQUE (measure_id, kind, interval_from)
);
CREATE INDEX test_draws_day ON test_draws(day, person_id);
CREATE INDEX test_draws_person ON test_draws(person_id, day);

-- What the draws of a measure were last materialised from, so the daily
-- job redraws only measures whose term changed, and how far ahead.
CREATE TABLE draw_state (
    measure_id TEXT PRIMARY KEY REFERENCES measures(id),
    input_key  TEXT NOT NULL,
    through    TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);
