-- Risk tiers (issue 13; R31, R32). An instrument version is attached to an
-- org node from a local date on and inherited below; an assessment keeps
-- a copy of the instrument it was scored with, so a later version never
-- re-scores it. A tier is in force only once a lead has confirmed or
-- overridden the proposal (R32), from the day after (effective_from).
CREATE TABLE risk_instruments (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    effective_from  TEXT NOT NULL,
    body            TEXT NOT NULL,          -- JSON: factors, weights, bands, labels
    note            TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX risk_instruments_org_date ON risk_instruments(org_id, effective_from);

CREATE TABLE risk_assessments (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL REFERENCES persons(id),
    org_id           TEXT NOT NULL REFERENCES orgs(id),  -- place of execution when assessed
    instrument_id    TEXT NOT NULL,                      -- a risk_instruments id, or the built-in default
    instrument_body  TEXT NOT NULL,                      -- the instrument scored with
    input_enc        TEXT NOT NULL,                      -- sealed JSON: answers, overrides, sources, items (R36)
    score            INTEGER NOT NULL,
    proposed_tier    TEXT NOT NULL,
    reason_kind      TEXT NOT NULL,                      -- first, scheduled, trigger, stepdown
    trigger_text     TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,                      -- proposed, confirmed, overridden, superseded
    tier             TEXT NOT NULL DEFAULT '',           -- the tier decided by the lead
    decision_reason  TEXT NOT NULL DEFAULT '',
    decided_by       TEXT NOT NULL DEFAULT '',
    decided_by_name  TEXT NOT NULL DEFAULT '',
    decided_at       DATETIME,
    effective_from   TEXT,                               -- the day after the decision
    policy_ref       TEXT NOT NULL DEFAULT '',           -- the policy versions of the tier's effects
    assessed_by      TEXT NOT NULL DEFAULT '',
    assessed_by_name TEXT NOT NULL DEFAULT '',
    assessed_at      DATETIME NOT NULL
);
CREATE INDEX risk_assessments_person ON risk_assessments(person_id, assessed_at);
CREATE INDEX risk_assessments_tier ON risk_assessments(person_id, effective_from) WHERE state IN ('confirmed', 'overridden');
