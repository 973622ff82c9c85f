-- Leave of absence (请假, R8) and working away (外出务工) with the local
-- approval workflow (R28; casework/leave.go), and messages from staff to a
-- person, with read receipts.
CREATE TABLE leaves (
    id               TEXT PRIMARY KEY,             -- the app's client UUID, or a server id for a paper request
    person_id        TEXT NOT NULL REFERENCES persons(id),
    org_id           TEXT NOT NULL REFERENCES orgs(id), -- place of execution when requested
    kind             TEXT NOT NULL,                -- leave, work_away
    state            TEXT NOT NULL,                -- draft … returned (overdue is derived)
    province         TEXT NOT NULL,                -- GB/T 2260 code
    city             TEXT NOT NULL,
    lat              REAL,
    lng              REAL,
    radius_m         INTEGER,
    from_date        TEXT NOT NULL,
    to_date          TEXT NOT NULL,
    extension_to     TEXT,                          -- requested new end date while extension_requested
    days             INTEGER NOT NULL,
    required         INTEGER NOT NULL,                 -- days ≥ threshold (R8); false: informational
    threshold_days   INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    employer         TEXT NOT NULL DEFAULT '',
    address_enc      TEXT NOT NULL DEFAULT '',     -- work address, sealed
    source           TEXT NOT NULL,                -- app, staff
    request_hash     TEXT NOT NULL DEFAULT '',     -- SHA-256 of the app's request, for idempotent replays
    created_by       TEXT NOT NULL DEFAULT '',
    created_by_name  TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    decided_by       TEXT NOT NULL DEFAULT '',
    decided_by_name  TEXT NOT NULL DEFAULT '',
    decided_at       DATETIME,
    decision_reason  TEXT NOT NULL DEFAULT '',
    started          INTEGER NOT NULL DEFAULT 0,  -- the measure went on leave for it
    returned_at      DATETIME,                         -- return report (销假)
    returned_on      TEXT
);
CREATE INDEX leaves_person ON leaves(person_id, from_date);
CREATE INDEX leaves_state ON leaves(state, to_date);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    sender_id   TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    read_at     DATETIME
);
CREATE INDEX messages_person ON messages(person_id, created_at);
