-- The person's app (issue 4 §2, §4): one-time activation codes, devices
-- (one active per person) and check-ins stored exactly once by the
-- client's id. Location is sealed (R36, R37); only the verdict is clear.
CREATE TABLE activation_codes (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    code_hash   TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    device_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX activation_codes_person ON activation_codes(person_id);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons(id),
    public_key    TEXT NOT NULL,                 -- base64 SPKI DER, ECDSA P-256
    pin_hash      TEXT NOT NULL,                 -- argon2id
    token_hash    TEXT NOT NULL UNIQUE,          -- SHA-256 of the bearer token
    activated_at  TIMESTAMPTZ NOT NULL,
    retired_at    TIMESTAMPTZ,                      -- NULL while active
    retire_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX devices_one_active ON devices(person_id) WHERE retired_at IS NULL;

CREATE TABLE checkins (
    id                TEXT PRIMARY KEY,          -- the client's UUID
    person_id         TEXT NOT NULL REFERENCES persons(id),
    device_id         TEXT NOT NULL REFERENCES devices(id),
    org_id            TEXT NOT NULL REFERENCES orgs(id), -- place of execution at ingest
    taken_at          TIMESTAMPTZ NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL,
    local_date        TEXT NOT NULL,             -- taken_at's date in the org's zone
    loc_enc           TEXT NOT NULL,             -- sealed "lat,lng" (context checkin.loc:<id>)
    accuracy_m        DOUBLE PRECISION NOT NULL,
    photo_sha256      TEXT NOT NULL DEFAULT '',
    signature         TEXT NOT NULL,
    body_sha256       TEXT NOT NULL,
    verdict           TEXT NOT NULL,
    policy_version_id TEXT NOT NULL
);
CREATE INDEX checkins_person_day ON checkins(person_id, local_date);
