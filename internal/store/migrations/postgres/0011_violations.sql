-- Violations (issue 5 §4; R1, R2, R8, R9, R10, R29), the handling ladder,
-- serious cases reported to the police, and the per-person watermark of
-- the nightly detection (incremental: each night reads only new days).
CREATE TABLE violations (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    measure_id      TEXT NOT NULL REFERENCES measures(id),  -- counted over the measure's whole term (R9)
    org_id          TEXT NOT NULL REFERENCES orgs(id),      -- place of execution when detected
    kind            TEXT NOT NULL,
    source_key      TEXT NOT NULL,                          -- the day, test, trip start or measure it comes from
    day             DATE NOT NULL,                          -- local date it happened (a trip: its first day)
    last_day        DATE NOT NULL,                          -- a trip: last away day so far
    days            INTEGER NOT NULL DEFAULT 0,             -- a departure: unauthorised days (R9 >30)
    detail          TEXT NOT NULL DEFAULT '',
    police_required BOOLEAN NOT NULL DEFAULT FALSE,             -- R10/R2: a single one must be reported to the police
    state           TEXT NOT NULL,                          -- open, explained, excused, confirmed
    state_reason    TEXT NOT NULL DEFAULT '',
    state_by        TEXT NOT NULL DEFAULT '',
    state_by_name   TEXT NOT NULL DEFAULT '',
    state_at        TIMESTAMPTZ,
    policy_ref      TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',               -- '' for the nightly detection
    created_at      TIMESTAMPTZ NOT NULL
);
-- One violation per source: running detection twice, or on two servers at
-- once, inserts nothing new (ON CONFLICT DO NOTHING).
CREATE UNIQUE INDEX violations_source ON violations(person_id, kind, source_key);
CREATE INDEX violations_measure ON violations(measure_id, kind, state);
CREATE INDEX violations_org ON violations(org_id, state, day);

CREATE TABLE violation_steps (
    id            TEXT PRIMARY KEY,
    violation_id  TEXT NOT NULL REFERENCES violations(id),
    person_id     TEXT NOT NULL REFERENCES persons(id),
    measure_id    TEXT NOT NULL REFERENCES measures(id),
    step          TEXT NOT NULL,                            -- exhort, warn, police (R29)
    reason        TEXT NOT NULL,
    recipient     TEXT NOT NULL DEFAULT '',                 -- police: who received it (R10)
    document_id   TEXT REFERENCES documents(id),
    created_by    TEXT NOT NULL DEFAULT '',
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX violation_steps_violation ON violation_steps(violation_id);
CREATE INDEX violation_steps_measure ON violation_steps(measure_id);

CREATE TABLE serious_cases (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    measure_id      TEXT NOT NULL REFERENCES measures(id),
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    trigger_kind    TEXT NOT NULL,                          -- refusals, departures, absence, positive, drug_use
    trigger_key     TEXT NOT NULL DEFAULT '',               -- '' for an R9 threshold; the test or violation for R10
    counts          TEXT NOT NULL DEFAULT '',               -- JSON: the counts and thresholds when opened
    policy_ref      TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    report_document_id TEXT REFERENCES documents(id),
    recipient       TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMPTZ,
    reported_by     TEXT NOT NULL DEFAULT '',
    ack_by          TEXT NOT NULL DEFAULT '',
    ack_at          TIMESTAMPTZ,
    ack_note        TEXT NOT NULL DEFAULT '',
    decision        TEXT NOT NULL DEFAULT '',
    decision_date   DATE,
    decision_text   TEXT NOT NULL DEFAULT '',
    decided_by      TEXT NOT NULL DEFAULT '',
    closed_by       TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMPTZ,
    close_note      TEXT NOT NULL DEFAULT '',
    opened_on       DATE NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
-- One case per threshold crossing (R9) or per positive test (R10).
CREATE UNIQUE INDEX serious_cases_trigger ON serious_cases(measure_id, trigger_kind, trigger_key);
CREATE INDEX serious_cases_org ON serious_cases(org_id, state);

CREATE TABLE violation_watch (
    person_id   TEXT PRIMARY KEY REFERENCES persons(id),
    measure_id  TEXT NOT NULL,
    through     DATE NOT NULL,                              -- last local day judged
    trip_start  DATE,                                       -- current trip away (casework.Trip)
    trip_days   INTEGER NOT NULL DEFAULT 0,
    trip_qualified BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Late check-ins since the last night (a day judged missed is explained).
CREATE INDEX checkins_received ON checkins(received_at);
CREATE INDEX drug_tests_created ON drug_tests(created_at);
