-- Resident satisfaction and awareness surveys (满意度 / 知晓率, issue 12 §4,
-- CARE.md §4 and D). A survey belongs to a community (org node) and has a
-- public token for its link and QR code. Responses are anonymous: age band,
-- role and the answers only; the browser token and the address+answers
-- fingerprint are keyed hashes kept only to refuse duplicates.
CREATE TABLE surveys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    title         TEXT NOT NULL,
    token         TEXT NOT NULL UNIQUE,
    opens_on      DATE NOT NULL,
    closes_on     DATE NOT NULL,
    max_responses INTEGER NOT NULL,
    closed_at     TIMESTAMPTZ,
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX surveys_org ON surveys(org_id);

CREATE TABLE survey_responses (
    id             TEXT PRIMARY KEY,
    survey_id      TEXT NOT NULL REFERENCES surveys(id),
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    submitted_on   DATE NOT NULL,            -- local date in the org's zone
    age_band       TEXT NOT NULL,
    role           TEXT NOT NULL,
    mode           TEXT NOT NULL,
    sat_gov        TEXT NOT NULL,
    sat_control    TEXT NOT NULL,
    sat_police     TEXT NOT NULL,
    sat_prevention TEXT NOT NULL,
    sat_overall    TEXT NOT NULL,
    k_items        INTEGER NOT NULL,         -- knowledge items asked
    k_correct      INTEGER NOT NULL,         -- of which answered right
    k1 INTEGER, k2 INTEGER, k3 INTEGER, k4 INTEGER, k5 INTEGER, -- 1 right, 0 wrong, NULL not asked
    heard          INTEGER NOT NULL,
    channel        TEXT NOT NULL DEFAULT '',
    browser_hash   TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX survey_responses_org ON survey_responses(org_id, submitted_on);
CREATE INDEX survey_responses_browser ON survey_responses(survey_id, browser_hash);
CREATE INDEX survey_responses_fp ON survey_responses(survey_id, fingerprint, created_at);

-- Results of a survey run by a third party, imported from Excel: totals per
-- community and period, counted with the same formulas.
CREATE TABLE survey_imports (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    period_from     DATE NOT NULL,
    period_to       DATE NOT NULL,
    source          TEXT NOT NULL,
    respondents     INTEGER NOT NULL,
    satisfied       INTEGER NOT NULL,        -- 满意 + 比较满意 answers
    valid           INTEGER NOT NULL,        -- satisfaction answers other than 不清楚
    knowledge_items INTEGER NOT NULL,        -- knowledge items per respondent
    correct         INTEGER NOT NULL,        -- knowledge answers right
    import_key      TEXT NOT NULL UNIQUE,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX survey_imports_org ON survey_imports(org_id, period_to);

-- What the yearly work summary (年度工作总结, issue 12 §3) needs of an org
-- that no record holds: the resident population and the year's staffing,
-- workers by kind. Entered by the office, one row per org and year.
CREATE TABLE org_years (
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    year           INTEGER NOT NULL,
    population     INTEGER NOT NULL,
    specialists    INTEGER NOT NULL,         -- 禁毒专干
    social_workers INTEGER NOT NULL,         -- 社工
    police         INTEGER NOT NULL,         -- 社区民警
    counsellors    INTEGER NOT NULL,         -- 心理/医务
    others         INTEGER NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    updated_by     TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, year)
);
