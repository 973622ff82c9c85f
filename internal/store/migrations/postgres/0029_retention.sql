-- Retention and sealing (issue 15 "must add"; R38, R39). A released file
-- is sealed by the nightly job once the policy's retention period after the
-- release has passed: sealed_at is set, the row and its records stay (R38:
-- sealing is not deletion) and past figures still count them, but normal
-- roles no longer find the file in lists, search, the inbox or report lists.
ALTER TABLE persons ADD COLUMN sealed_at TIMESTAMPTZ;

-- Statutory queries (R38): the only disclosure of a sealed file. Who asked
-- (organ), on what legal basis and document, and why; the office that
-- recorded it may read the file, read-only, until expires_at.
CREATE TABLE statutory_queries (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    actor_id    TEXT NOT NULL REFERENCES users(id),
    organ       TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    document_no TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX statutory_queries_org ON statutory_queries (org_id, created_at);

-- The person's own data (PIPL Art 45): an export made by the office on the
-- person's request, downloadable once, for a short time, by its maker.
CREATE TABLE data_exports (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    actor_id      TEXT NOT NULL REFERENCES users(id),
    reason        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    downloaded_at TIMESTAMPTZ
);
