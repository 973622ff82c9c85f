-- Notifications (issue 5 §7). App messages the system sends a person sit in
-- messages beside the staff's, with a kind ('staff' for a worker's own
-- message) and no staff sender; a notice key makes a repeated notice (a job
-- run twice) a no-op. Staff see in-console notifications, one row per
-- recipient. Channels that leave the database (SMS) go through an outbox
-- that a background job delivers, each row once, retried on failure.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'staff';
ALTER TABLE messages ADD COLUMN notice_key TEXT;
CREATE UNIQUE INDEX messages_notice_key ON messages(notice_key) WHERE notice_key IS NOT NULL;
CREATE INDEX messages_unread ON messages(person_id) WHERE read_at IS NULL;

CREATE TABLE staff_notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    person_id   TEXT REFERENCES persons(id),
    kind        TEXT NOT NULL,           -- leave.submitted, leave.approved, test.today, violation, …
    title_zh    TEXT NOT NULL,
    title_en    TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '', -- the console page that deals with it
    notice_key  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ
);
CREATE INDEX staff_notifications_user ON staff_notifications(user_id, created_at);
CREATE INDEX staff_notifications_unread ON staff_notifications(user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX staff_notifications_key ON staff_notifications(user_id, notice_key) WHERE notice_key IS NOT NULL;

CREATE TABLE notification_outbox (
    id          TEXT PRIMARY KEY,
    channel     TEXT NOT NULL,            -- sms
    person_id   TEXT NOT NULL REFERENCES persons(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    notice_key  TEXT,
    state       TEXT NOT NULL,            -- pending, sent, failed (gave up), skipped (no phone)
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    next_at     TIMESTAMPTZ NOT NULL,        -- not before: backoff after a failure
    lease_until TIMESTAMPTZ,                 -- a delivery in progress holds the row until then
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX notification_outbox_due ON notification_outbox(next_at) WHERE state = 'pending';
CREATE UNIQUE INDEX notification_outbox_key ON notification_outbox(channel, notice_key) WHERE notice_key IS NOT NULL;
