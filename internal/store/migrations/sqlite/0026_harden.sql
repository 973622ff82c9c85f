-- The audit head is keyed like the rows (issue 15 §1): mac is HMAC-SHA256
-- with the audit key over the head's seq and hash, so a writer without the
-- server key cannot move the head back after deleting the newest rows. The
-- migration leaves it empty; Migrate keys the head of an existing chain in
-- the same transaction.
ALTER TABLE audit_head ADD COLUMN mac TEXT NOT NULL DEFAULT '';

-- Who uploaded which check-in photo (issue 15 §2): a check-in that must
-- carry a selfie counts only a photo its own person uploaded, and a photo
-- is shown only through that person's check-ins.
CREATE TABLE app_photos (
    sha256      TEXT NOT NULL,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    device_id   TEXT NOT NULL,
    uploaded_at DATETIME NOT NULL,
    PRIMARY KEY (sha256, person_id)
);

-- Sign-in locks per account and client address (issue 15 §4): failures
-- from one address lock the account for that address only, so nobody can
-- lock an administrator out at will from elsewhere. addr is the client's
-- /32 (IPv4) or /64 (IPv6).
CREATE TABLE login_locks (
    user_id      TEXT NOT NULL REFERENCES users(id),
    addr         TEXT NOT NULL,
    failed       INTEGER NOT NULL,
    locked_until DATETIME,
    updated_at   DATETIME NOT NULL,
    PRIMARY KEY (user_id, addr)
);
