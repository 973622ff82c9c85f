-- Issue 12: maintained rollups of the report figures (internal/store/reports.go).
-- One row per org, bucket (a calendar month "2026-03" or year "2026"),
-- figure and breakdown class; the numbers are the totals of the org's
-- whole subtree, so a dashboard reads its org and its children only and
-- its cost follows the number of orgs and months, not the history.
-- Written by the rollup job and `kangfu rollups rebuild`; checked against
-- a full recount by `kangfu rollups check`.
CREATE TABLE report_rollups (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    bucket      TEXT NOT NULL,
    figure      TEXT NOT NULL,
    class       TEXT NOT NULL DEFAULT '',
    num         INTEGER NOT NULL,
    den         INTEGER NOT NULL,
    computed_at DATETIME NOT NULL,
    PRIMARY KEY (bucket, org_id, figure, class)
);
