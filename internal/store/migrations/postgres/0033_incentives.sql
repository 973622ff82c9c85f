-- Incentives (积分; issue 14, CARE.md A). A person's consent is recorded,
-- revocable and shown on the file; without consent in force nothing is
-- credited. The ledger is append-only: every award, reset, reversal and
-- redemption is a row that is never updated or deleted (the triggers
-- below refuse both), and a schedule change never rewrites it.
CREATE TABLE incentive_consents (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    given_at        TIMESTAMPTZ NOT NULL,
    given_by        TEXT NOT NULL,
    given_by_name   TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    revoked_at      TIMESTAMPTZ,
    revoked_by      TEXT NOT NULL DEFAULT '',
    revoked_by_name TEXT NOT NULL DEFAULT '',
    revoke_reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incentive_consents_person ON incentive_consents(person_id, given_at);
-- At most one consent in force per person.
CREATE UNIQUE INDEX incentive_consents_open ON incentive_consents(person_id) WHERE revoked_at IS NULL;

CREATE TABLE incentive_ledger (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),   -- place of execution when awarded
    rule        TEXT NOT NULL,                       -- casework.Award*
    points      INTEGER NOT NULL,
    source_kind TEXT NOT NULL,                       -- checkin, drug_test, violation, session, ledger, redemption
    source_id   TEXT NOT NULL,
    day         TEXT NOT NULL,                       -- local date of the event
    state       TEXT NOT NULL DEFAULT '',            -- JSON casework.IncentiveState after a test row
    policy_ref  TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',            -- why a row was capped, reversed or corrected
    created_by  TEXT NOT NULL DEFAULT '',            -- '' for the award job
    approved_by TEXT NOT NULL DEFAULT '',            -- a lead, for reversals and corrections
    created_at  TIMESTAMPTZ NOT NULL
);
-- One award per rule and source: running the award job twice, or on two
-- servers at once, credits nothing twice.
CREATE UNIQUE INDEX incentive_ledger_source ON incentive_ledger(person_id, rule, source_kind, source_id);
CREATE INDEX incentive_ledger_person ON incentive_ledger(person_id, seq);
CREATE INDEX incentive_ledger_org ON incentive_ledger(org_id, day);

CREATE FUNCTION incentive_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incentive ledger rows are never changed or deleted';
END $$;
CREATE TRIGGER incentive_ledger_no_change BEFORE UPDATE OR DELETE ON incentive_ledger
    FOR EACH ROW EXECUTE FUNCTION incentive_ledger_immutable();
