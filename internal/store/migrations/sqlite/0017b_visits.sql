-- Visits and contacts (issue 11 §1, R27): home visits (走访/入户), phone
-- visits (电访), office talks (谈话) and video calls, recorded by the worker
-- in the field. The id is made by the phone (UUIDv7) so a form queued
-- offline and sent twice is stored once. A call that did not get through is
-- an attempt (state 'attempt'), not a visit; a planned visit (an
-- appointment the person sees in the app) has state 'planned'. Notes, the
-- condition's free text and the location taken by the phone are sealed in
-- body_enc (R36); the timeline carries none of them.
CREATE TABLE visits (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id), -- place of execution when recorded
    kind          TEXT NOT NULL,                     -- home, phone, office, video
    state         TEXT NOT NULL,                     -- done, attempt, planned
    at            DATETIME NOT NULL,
    local_date    TEXT NOT NULL,                     -- at's date in the org's zone (cadence)
    face_to_face  INTEGER NOT NULL DEFAULT 0,
    participants  TEXT NOT NULL DEFAULT '[]',        -- JSON: [{role, name, user_id}]
    condition     TEXT NOT NULL DEFAULT '',          -- stable, improving, concern, unwell, relapse_risk, not_seen
    body_enc      TEXT NOT NULL,                     -- sealed JSON: notes, condition note, lat/lng
    accuracy_m    REAL,                                -- of the phone's fix, when one was taken
    address       TEXT NOT NULL DEFAULT '',          -- where, as given
    distance_m    REAL,                                -- from the geocoded residence, when both are known
    source        TEXT NOT NULL DEFAULT 'form',      -- form, import
    import_key    TEXT,                              -- a row of an import, for idempotence
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    updated_by    TEXT NOT NULL DEFAULT '',
    updated_at    DATETIME,
    rev           INTEGER NOT NULL DEFAULT 0         -- revisions saved (record_revisions)
);
CREATE INDEX visits_person ON visits(person_id, at);
CREATE INDEX visits_person_day ON visits(person_id, local_date);
CREATE INDEX visits_org_day ON visits(org_id, local_date);
CREATE UNIQUE INDEX visits_import_key ON visits(import_key) WHERE import_key IS NOT NULL;

-- Follow-up actions agreed at a visit, each with a due date; an open one
-- past its date is an inbox task.
CREATE TABLE visit_followups (
    id         TEXT PRIMARY KEY,
    visit_id   TEXT NOT NULL REFERENCES visits(id),
    person_id  TEXT NOT NULL REFERENCES persons(id),
    action     TEXT NOT NULL,
    due        TEXT NOT NULL,
    done_at    DATETIME,
    done_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX visit_followups_open ON visit_followups(person_id, due) WHERE done_at IS NULL;
CREATE INDEX visit_followups_visit ON visit_followups(visit_id);

-- Photos taken at a visit: content in the content-addressed blob store.
CREATE TABLE visit_photos (
    visit_id   TEXT NOT NULL REFERENCES visits(id),
    seq        INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (visit_id, seq)
);

-- A person's residence as a point, when it is known (pinned by a worker
-- from a home visit's fix): a home visit's location is checked against it.
CREATE TABLE residence_geocodes (
    person_id  TEXT PRIMARY KEY REFERENCES persons(id),
    loc_enc    TEXT NOT NULL,                        -- sealed "lat,lng"
    set_by     TEXT NOT NULL DEFAULT '',
    set_at     DATETIME NOT NULL
);
