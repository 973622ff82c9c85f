-- The spine: org tree, staff, grants, sessions, audit log, jobs lock.
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES orgs(id),
    path        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    area_code   TEXT NOT NULL DEFAULT '',
    time_zone   TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    geofence    TEXT NOT NULL DEFAULT '',
    retired     INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    org_id               TEXT NOT NULL REFERENCES orgs(id),
    sex                  TEXT NOT NULL DEFAULT '',
    phone                TEXT NOT NULL DEFAULT '',
    lang                 TEXT NOT NULL DEFAULT 'zh',
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    totp_secret          TEXT NOT NULL DEFAULT '',
    totp_enabled         INTEGER NOT NULL DEFAULT 0,
    totp_exempt          INTEGER NOT NULL DEFAULT 0,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         DATETIME,
    last_login_at        DATETIME,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    DATETIME,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    created_at DATETIME NOT NULL,
    UNIQUE (user_id, role, org_id)
);
CREATE INDEX grants_org ON grants(org_id);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    revoked_at   DATETIME,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    at          DATETIME NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_name  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    org_id      TEXT NOT NULL DEFAULT '',
    org_path    TEXT NOT NULL DEFAULT '', -- the org's path when written: scopes rows whose org is gone
    reason      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_target ON audit_log(target_type, target_id);
CREATE INDEX audit_actor ON audit_log(actor_id);
CREATE INDEX audit_org ON audit_log(org_id);

-- One row: the head of the audit chain. Appends lock it, so the chain stays
-- linear with several server instances on one PostgreSQL database.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Once-only markers (demo data loaded, …).
CREATE TABLE markers (
    name       TEXT PRIMARY KEY,
    created_at DATETIME NOT NULL
);
