-- The person file (一人一档): persons, measures, working groups, status
-- events, custody periods (who is responsible when), transfers, documents,
-- the timeline and a name index for partial search.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE persons (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs(id),   -- current place of execution
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,                       -- pinyin collation key, for sorting
    sex                TEXT NOT NULL,
    birth_date         DATE,
    ethnicity          TEXT NOT NULL DEFAULT '',
    education          TEXT NOT NULL DEFAULT '',
    marital_status     TEXT NOT NULL DEFAULT '',
    employment         TEXT NOT NULL DEFAULT '',
    id_number_enc      TEXT NOT NULL,
    id_number_idx      TEXT NOT NULL UNIQUE,                -- HMAC blind index
    id_masked          TEXT NOT NULL,
    phone_enc          TEXT NOT NULL DEFAULT '',
    phone_idx          TEXT NOT NULL DEFAULT '',
    phone_masked       TEXT NOT NULL DEFAULT '',
    household_addr_enc TEXT NOT NULL DEFAULT '',
    residence_addr_enc TEXT NOT NULL DEFAULT '',
    contacts_enc       TEXT NOT NULL DEFAULT '',
    health_enc         TEXT NOT NULL DEFAULT '',
    drug_history_enc   TEXT NOT NULL DEFAULT '',
    photo_sha256       TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,                       -- status of the measure in force, or of the last one
    measure_kind       TEXT NOT NULL DEFAULT '',
    worker_id          TEXT REFERENCES users(id),
    report_deadline    DATE,                                -- while pending report
    term_end           DATE,
    released_on        DATE,
    import_key         TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX persons_org ON persons(org_id, status);
CREATE INDEX persons_name ON persons(name_key);
CREATE INDEX persons_phone ON persons(phone_idx);
CREATE INDEX persons_worker ON persons(worker_id);
CREATE INDEX persons_deadline ON persons(report_deadline);

-- Unigrams and bigrams of each name: partial name search through an index
-- on both engines (Chinese names are 2–4 characters; trigram indexes need 3).
CREATE TABLE person_name_grams (
    gram      TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    PRIMARY KEY (gram, person_id)
);
CREATE INDEX person_name_grams_person ON person_name_grams(person_id);

CREATE TABLE measures (
    id                 TEXT PRIMARY KEY,
    person_id          TEXT NOT NULL REFERENCES persons(id),
    kind               TEXT NOT NULL,
    decision_number    TEXT NOT NULL,
    decision_authority TEXT NOT NULL,
    decision_date      DATE NOT NULL,
    received_date      DATE NOT NULL,
    report_deadline    DATE NOT NULL,
    report_date        DATE,
    agreement_date     DATE,
    term_months        INTEGER NOT NULL,
    term_end           DATE,
    suspended_days     INTEGER NOT NULL DEFAULT 0,
    suspended_since    DATE,
    place_org_id       TEXT NOT NULL REFERENCES orgs(id),
    worker_id          TEXT REFERENCES users(id),
    status             TEXT NOT NULL,
    status_since       DATE NOT NULL,
    in_force           BOOLEAN NOT NULL,
    ended_on           DATE,
    no_relapse_on      DATE,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX measures_person ON measures(person_id);
CREATE UNIQUE INDEX measures_one_in_force ON measures(person_id) WHERE in_force;
CREATE INDEX measures_term_end ON measures(term_end) WHERE in_force;

CREATE TABLE working_group (
    id         TEXT PRIMARY KEY,
    measure_id TEXT NOT NULL REFERENCES measures(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    name       TEXT NOT NULL,
    phone_enc  TEXT NOT NULL DEFAULT '',
    user_id    TEXT REFERENCES users(id),
    note       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX working_group_measure ON working_group(measure_id);
CREATE INDEX working_group_user ON working_group(user_id);

CREATE TABLE status_events (
    id             TEXT PRIMARY KEY,
    measure_id     TEXT NOT NULL REFERENCES measures(id),
    person_id      TEXT NOT NULL REFERENCES persons(id),
    action         TEXT NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    effective_date DATE NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    document_ids   TEXT NOT NULL DEFAULT '',
    actor_id       TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX status_events_measure ON status_events(measure_id);

-- Custody: which org was responsible for the person when. A past custody
-- gives read access to what happened until it ended, and nothing after (R11).
CREATE TABLE custody (
    id        TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    from_at   TIMESTAMPTZ NOT NULL,
    to_at     TIMESTAMPTZ
);
CREATE INDEX custody_person ON custody(person_id);
CREATE INDEX custody_org ON custody(org_id);

CREATE TABLE transfers (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    measure_id      TEXT NOT NULL REFERENCES measures(id),
    from_org_id     TEXT NOT NULL REFERENCES orgs(id),
    to_org_id       TEXT NOT NULL REFERENCES orgs(id),
    state           TEXT NOT NULL,               -- pending, accepted, refused, cancelled
    reason          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    TIMESTAMPTZ NOT NULL,
    decided_by      TEXT NOT NULL DEFAULT '',
    decided_at      TIMESTAMPTZ,
    decision_reason TEXT NOT NULL DEFAULT '',
    new_worker_id   TEXT REFERENCES users(id),
    agreement_date  DATE
);
CREATE INDEX transfers_person ON transfers(person_id);
CREATE INDEX transfers_to ON transfers(to_org_id, state);
CREATE UNIQUE INDEX transfers_one_pending ON transfers(person_id) WHERE state = 'pending';

CREATE TABLE documents (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    measure_id  TEXT REFERENCES measures(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),  -- org responsible when filed
    kind        TEXT NOT NULL,                       -- decision, agreement, working_group, ...
    title       TEXT NOT NULL,
    source      TEXT NOT NULL,                       -- upload or generated
    sha256      TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX documents_person ON documents(person_id);

-- The timeline: every event about a person, newest first. Later features add
-- their events here. data holds no sensitive values.
CREATE TABLE timeline (
    id        TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    org_id    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL DEFAULT '',
    actor_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX timeline_person ON timeline(person_id, at);

-- Corrections of archived files need a reason and a lead's approval.
CREATE TABLE corrections (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES persons(id),
    changes      TEXT NOT NULL,          -- JSON of field → new value (sensitive values sealed)
    reason       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL,          -- pending, approved, rejected
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   TIMESTAMPTZ,
    decision_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX corrections_person ON corrections(person_id);
