-- Drug test records (R18–R21). The result (outcome, substances, sample and
-- seal numbers) is sensitive (R36) and sealed in result_enc.
CREATE TABLE drug_tests (
    id                 TEXT PRIMARY KEY,
    person_id          TEXT NOT NULL REFERENCES persons(id),
    org_id             TEXT NOT NULL REFERENCES orgs(id), -- place of execution when recorded
    tested_on          DATE NOT NULL,
    place              TEXT NOT NULL,
    sample             TEXT NOT NULL,                     -- urine, blood, saliva, hair (R20)
    result_enc         TEXT NOT NULL,                     -- sealed JSON: outcome, substances, positive, A/B, seal (R18, R36)
    staff              TEXT NOT NULL DEFAULT '[]',        -- JSON: staff present (R18)
    forced             BOOLEAN NOT NULL DEFAULT FALSE,        -- after a refusal (R21)
    approver_name      TEXT NOT NULL DEFAULT '',
    approver_title     TEXT NOT NULL DEFAULT '',
    notified_on        DATE NOT NULL,                     -- base of the R19 deadlines
    lab_request_by     DATE NOT NULL,
    retest_request_by  DATE NOT NULL,
    remote             BOOLEAN NOT NULL DEFAULT FALSE,        -- report of a test done elsewhere
    remote_institution TEXT NOT NULL DEFAULT '',
    remote_document_id TEXT REFERENCES documents(id),
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX drug_tests_person ON drug_tests(person_id, tested_on);
