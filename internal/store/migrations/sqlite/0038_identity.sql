-- Identity at check-in (issue 17; R26, R32, R36): the face fields the app
-- signs with the check-in, the server's identity outcome against the
-- reference photo (policy identity.match_threshold), and the review a
-- person makes of a mismatch or failed liveness. The embedding is sealed
-- like every sensitive field (context checkin.face:<id>); '' when none.
ALTER TABLE checkins ADD COLUMN identity_outcome TEXT NOT NULL DEFAULT 'not_checked';
ALTER TABLE checkins ADD COLUMN face_score REAL;
ALTER TABLE checkins ADD COLUMN face_liveness TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN face_challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN face_models TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN face_embedding TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN face_ms INTEGER;
ALTER TABLE checkins ADD COLUMN face_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN mock_location INTEGER;
-- Whether the check-in discharges the day by its checks alone (checkin.counts):
-- counts is this and the identity (a not_matched or liveness_failed one
-- counts for nothing until a person reviews it as the same person, R32).
ALTER TABLE checkins ADD COLUMN checks_count INTEGER NOT NULL DEFAULT 0;
UPDATE checkins SET checks_count = counts;
-- The review of a not_matched / liveness_failed check-in: same | not_same.
ALTER TABLE checkins ADD COLUMN identity_review TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN identity_review_note TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN identity_reviewed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN identity_reviewed_at DATETIME;
CREATE INDEX checkins_identity_open ON checkins(org_id, taken_at)
    WHERE identity_outcome IN ('not_matched', 'liveness_failed') AND identity_review = '';

-- Reference photos (issue 17 §1): taken at activation under a worker's
-- supervision; the photo is a sealed blob (photo_sha256 names the sealed
-- content), the embedding sealed (context face.ref:<id>; '' when the
-- console could not compute one). One current per person; a replacement
-- (a lead, with a reason) keeps the old one with replaced_at/by.
CREATE TABLE face_references (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons(id),
    photo_sha256  TEXT NOT NULL,
    photo_type    TEXT NOT NULL DEFAULT 'image/jpeg',
    embedding_enc TEXT NOT NULL DEFAULT '',
    models        TEXT NOT NULL DEFAULT '',
    taken_by      TEXT NOT NULL,
    taken_at      DATETIME NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    replaced_at   DATETIME,
    replaced_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX face_references_current ON face_references(person_id) WHERE replaced_at IS NULL;
CREATE INDEX face_references_person ON face_references(person_id, taken_at);
