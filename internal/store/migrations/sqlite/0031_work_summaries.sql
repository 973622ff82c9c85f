-- The yearly work summary (年度工作总结, issue 12 §3): the office's texts
-- per org and year, each save a new version (append-only, audited); a
-- finalised summary keeps a snapshot of its figures, the policy versions
-- they used, the population and staffing and the texts, so a later
-- recount never silently changes a submitted report. And the scheduled
-- monthly exports (issue 12 §5): one row per org and month written.
CREATE TABLE work_summary_texts (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    year        INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    overview    TEXT NOT NULL DEFAULT '',   -- 项目简述 (appended to the generated text)
    services    TEXT NOT NULL DEFAULT '',   -- 服务开展情况 (appended)
    highlights  TEXT NOT NULL DEFAULT '',   -- 亮点
    problems    TEXT NOT NULL DEFAULT '',   -- 问题
    next_steps  TEXT NOT NULL DEFAULT '',   -- 下一步
    updated_by  TEXT NOT NULL DEFAULT '',
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (org_id, year, version)
);

CREATE TABLE work_summary_finals (
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    year          INTEGER NOT NULL,
    text_version  INTEGER NOT NULL,
    snapshot      TEXT NOT NULL,            -- JSON: figures, policy refs, population and staffing, texts
    finalised_by  TEXT NOT NULL DEFAULT '',
    finalised_at  DATETIME NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE scheduled_exports (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    month       TEXT NOT NULL,              -- 2026-03
    file        TEXT NOT NULL,              -- the path written
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    written_at  DATETIME NOT NULL,
    PRIMARY KEY (org_id, month)
);
