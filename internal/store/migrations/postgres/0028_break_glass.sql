-- Break-glass access (issue 15, PRODUCT §1, R36): a time-boxed, reason-
-- stated, read-only grant on one person file outside the requester's
-- subtree. person_id is what the requester typed and carries no foreign
-- key: a request naming no file is stored alike, so the answer confirms
-- nothing; holder_org_id is the file's place of execution at the request
-- (NULL when there is no such file). A grant ends at ends_at or when the
-- holding office revokes it; the office reviews it afterwards.
CREATE TABLE break_glass (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    from_org_id   TEXT NOT NULL REFERENCES orgs(id),
    person_id     TEXT NOT NULL,
    holder_org_id TEXT REFERENCES orgs(id),
    reason        TEXT NOT NULL,
    hours         INTEGER NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    revoked_by    TEXT REFERENCES users(id),
    revoke_note   TEXT NOT NULL DEFAULT '',
    verdict       TEXT NOT NULL DEFAULT '',
    reviewed_at   TIMESTAMPTZ,
    reviewed_by   TEXT REFERENCES users(id),
    review_note   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX break_glass_person ON break_glass (person_id, user_id, ends_at);
CREATE INDEX break_glass_user ON break_glass (user_id, starts_at);
CREATE INDEX break_glass_review ON break_glass (verdict, holder_org_id);
