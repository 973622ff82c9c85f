-- Assistance, employment, help plans and prevention events (issue 11 §4–5).
-- Free text about a person's needs, money and outcomes is sealed (R36); what
-- lists and counts need (kinds, states, dates, employer) stays in columns.

-- One help plan (帮扶计划) per person; edits replace it, the history is
-- kept by the revisions and the timeline.
CREATE TABLE help_plans (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL UNIQUE REFERENCES persons(id),
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    plan_enc     TEXT NOT NULL,            -- sealed JSON: needs, goals
    start_on     TEXT NOT NULL,
    next_review  TEXT NOT NULL,            -- feeds the inbox
    reviewed_on  TEXT,                     -- the last review
    document_id  TEXT REFERENCES documents(id), -- the generated plan
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX help_plans_review ON help_plans(next_review);

CREATE TABLE help_reviews (
    id          TEXT PRIMARY KEY,
    plan_id     TEXT NOT NULL REFERENCES help_plans(id),
    person_id   TEXT NOT NULL REFERENCES persons(id),
    reviewed_on TEXT NOT NULL,
    note_enc    TEXT NOT NULL,
    next_review TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX help_reviews_plan ON help_reviews(plan_id, reviewed_on);

-- Assistance (帮扶救助): 低保, relief, referrals, methadone (R41), training,
-- housing, family help.
CREATE TABLE assistance (
    id                 TEXT PRIMARY KEY,
    person_id          TEXT NOT NULL REFERENCES persons(id),
    org_id             TEXT NOT NULL REFERENCES orgs(id),
    kind               TEXT NOT NULL,
    status             TEXT NOT NULL,      -- applied, approved, refused, ended
    applied_on         TEXT NOT NULL,
    decided_on         TEXT,
    ended_on           TEXT,
    provider           TEXT NOT NULL DEFAULT '', -- clinic, agency, school
    detail_enc         TEXT NOT NULL,      -- sealed JSON: amount (fen), outcome, note
    police_reported_on TEXT,               -- R41: methadone enrolment reported to the police
    police_reported_to TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);
CREATE INDEX assistance_person ON assistance(person_id, applied_on);
CREATE INDEX assistance_kind ON assistance(kind, status);

-- Employment periods: jobs, and periods of being unable to work, in school
-- or retired. The status on a day is derived from them (casework.EmploymentOn).
CREATE TABLE employment (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES persons(id),
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    kind       TEXT NOT NULL,              -- employed, unable, school, retired
    employer   TEXT NOT NULL DEFAULT '',
    job        TEXT NOT NULL DEFAULT '',
    from_on    TEXT NOT NULL,
    to_on      TEXT,                       -- last day, inclusive; NULL: ongoing
    found_by   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX employment_person ON employment(person_id, from_on);

-- Prevention and education events (宣传教育): not about a person; scoped by
-- the organiser's subtree.
CREATE TABLE prevention_events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    held_on    TEXT NOT NULL,
    place      TEXT NOT NULL DEFAULT '',
    topic      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    audience   INTEGER NOT NULL DEFAULT 0,
    materials  INTEGER NOT NULL DEFAULT 0,
    note       TEXT NOT NULL DEFAULT '',
    import_key TEXT UNIQUE,                -- the same row imported twice is one event
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX prevention_events_org ON prevention_events(org_id, held_on);

CREATE TABLE event_photos (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL REFERENCES prevention_events(id),
    sha256     TEXT NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE INDEX event_photos_event ON event_photos(event_id);
