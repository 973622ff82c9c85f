-- Psychological services (issue 11 §3, §7; issue 18 item 11). A lead
-- assigns counsellors to persons; a counsellor reads the minimal profile of
-- its assigned persons only. One-to-one sessions keep their notes sealed
-- (notes_enc); scale administrations keep the answers sealed and the
-- scores in the clear, with the scale version and the band table used, so
-- a later change of policy never relabels an old result. A PHQ-9 with item
-- 9 above zero stays open on the file and in the inbox until a follow-up
-- is recorded (followup_at). source_key makes an Excel import idempotent.
CREATE TABLE counsellor_assignments (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    assigned_by TEXT NOT NULL DEFAULT '',
    assigned_at DATETIME NOT NULL,
    ended_by    TEXT,
    ended_at    DATETIME
);
CREATE UNIQUE INDEX counsellor_assignments_open ON counsellor_assignments(person_id, user_id) WHERE ended_at IS NULL;
CREATE INDEX counsellor_assignments_user ON counsellor_assignments(user_id) WHERE ended_at IS NULL;

CREATE TABLE group_sessions (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    held_on        TEXT NOT NULL,
    topic          TEXT NOT NULL,
    facilitator    TEXT NOT NULL,
    facilitator_id TEXT REFERENCES users(id),
    place          TEXT NOT NULL,
    others_reached INTEGER NOT NULL DEFAULT 0,
    source_key     TEXT,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE INDEX group_sessions_org ON group_sessions(org_id, held_on);
CREATE UNIQUE INDEX group_sessions_source ON group_sessions(source_key) WHERE source_key IS NOT NULL;

CREATE TABLE group_session_attendees (
    session_id TEXT NOT NULL REFERENCES group_sessions(id) ON DELETE CASCADE,
    person_id  TEXT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (session_id, person_id)
);
CREATE INDEX group_session_attendees_person ON group_session_attendees(person_id);

CREATE TABLE counselling_sessions (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    counsellor_id   TEXT REFERENCES users(id),
    counsellor_name TEXT NOT NULL,
    held_at         DATETIME NOT NULL,
    held_on         TEXT NOT NULL,            -- local date of held_at in the org's zone
    minutes         INTEGER NOT NULL,
    mode            TEXT NOT NULL,            -- in_person, phone, video, home
    planned         INTEGER NOT NULL DEFAULT 0,
    notes_enc       TEXT NOT NULL DEFAULT '',
    source_key      TEXT,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX counselling_sessions_person ON counselling_sessions(person_id, held_at);
CREATE INDEX counselling_sessions_org ON counselling_sessions(org_id, held_on);
CREATE UNIQUE INDEX counselling_sessions_source ON counselling_sessions(source_key) WHERE source_key IS NOT NULL;

CREATE TABLE scale_administrations (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL REFERENCES persons(id),
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    scale            TEXT NOT NULL,          -- phq9, gad7, sds, assist
    version          TEXT NOT NULL,
    band_set         TEXT NOT NULL,
    bands            TEXT NOT NULL,          -- JSON: the band table(s) used
    answers_enc      TEXT NOT NULL,          -- sealed JSON answers
    total            INTEGER NOT NULL,
    score            INTEGER NOT NULL,       -- the charted value (SDS: the index)
    band             TEXT NOT NULL,
    band_level       INTEGER NOT NULL,
    substances       TEXT NOT NULL DEFAULT '[]', -- JSON: ASSIST scores per substance
    item9            INTEGER NOT NULL DEFAULT 0,
    administered_at  DATETIME NOT NULL,
    administered_on  TEXT NOT NULL,          -- local date in the org's zone
    administered_by  TEXT NOT NULL DEFAULT '',
    followup_at      DATETIME,
    followup_by      TEXT,
    followup_note_enc TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL
);
CREATE INDEX scale_administrations_person ON scale_administrations(person_id, administered_at);
CREATE INDEX scale_administrations_open ON scale_administrations(person_id) WHERE item9 > 0 AND followup_at IS NULL;
