-- Care-record revisions (issue 11 §6): every care record (visit, counselling
-- session, scale, assistance, employment …) is editable only by its author or
-- a lead, with the history kept. An edit first saves the version it replaces
-- here, sealed at rest with the field key (context "record_revision:<id>"),
-- numbered per record from 1. Rows are never updated or deleted.
CREATE TABLE record_revisions (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,            -- visit, counselling, scale, assistance, employment, …
    record_id   TEXT NOT NULL,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    rev         INTEGER NOT NULL,         -- 1 is the first version replaced
    body_enc    TEXT NOT NULL,            -- the replaced version as JSON, sealed
    edited_by   TEXT NOT NULL DEFAULT '', -- user id; '' for the system
    edited_at   TIMESTAMPTZ NOT NULL,
    reason      TEXT NOT NULL,
    UNIQUE (kind, record_id, rev)
);
CREATE INDEX record_revisions_person ON record_revisions(person_id);
