-- Policy as configuration (PRODUCT §5): versions of settings attached to an
-- org node, effective from a local calendar date. Withdrawn versions stay
-- for the record; an effective version is never updated (store/policies.go).
CREATE TABLE policy_versions (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    effective_from  TEXT NOT NULL,
    settings        TEXT NOT NULL,               -- JSON object: setting key → text value, or "inherit"
    note            TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    withdrawn       INTEGER NOT NULL DEFAULT 0,
    withdrawn_at    DATETIME,
    withdrawn_by    TEXT NOT NULL DEFAULT '',
    withdraw_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX policy_versions_org_date ON policy_versions(org_id, effective_from) WHERE withdrawn = 0;
CREATE INDEX policy_versions_org ON policy_versions(org_id);
