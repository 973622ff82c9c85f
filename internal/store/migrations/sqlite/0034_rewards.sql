-- Rewards catalogue and redemption (积分兑换; issue 14 §4, CARE.md A).
-- An office keeps a catalogue of rewards in kind (never cash) with a points
-- price and a stock. A redemption happens at the office with the person
-- present: the app shows a short-lived, single-use code bound to the person
-- (only its hash is stored), the worker enters it, and the redemption row,
-- the ledger row (negative points) and the stock change in one transaction.
CREATE TABLE incentive_rewards (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,                 -- goods, service (in kind; never cash)
    note        TEXT NOT NULL DEFAULT '',
    points      INTEGER NOT NULL CHECK (points > 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    retired_at  DATETIME,
    created_by  TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX incentive_rewards_org ON incentive_rewards(org_id, name);

CREATE TABLE incentive_codes (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    code_hash   TEXT NOT NULL,                 -- hex SHA-256 of person id and code
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME,
    attempts    INTEGER NOT NULL DEFAULT 0,    -- wrong entries while it was open
    created_at  DATETIME NOT NULL
);
CREATE INDEX incentive_codes_person ON incentive_codes(person_id, created_at);

CREATE TABLE incentive_redemptions (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    org_id          TEXT NOT NULL REFERENCES orgs(id),   -- the person's place when redeemed
    reward_id       TEXT NOT NULL REFERENCES incentive_rewards(id),
    reward_name     TEXT NOT NULL,
    points          INTEGER NOT NULL,
    ledger_id       TEXT NOT NULL REFERENCES incentive_ledger(id),
    code_id         TEXT NOT NULL UNIQUE REFERENCES incentive_codes(id),
    created_by      TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);
CREATE INDEX incentive_redemptions_org ON incentive_redemptions(org_id, created_at);
CREATE INDEX incentive_redemptions_person ON incentive_redemptions(person_id, created_at);
