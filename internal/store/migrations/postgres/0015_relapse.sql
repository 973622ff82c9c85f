-- Issue 10 items 7–9 and R17/R18/R9: relapses after release and the mark
-- 戒断三年未复吸 (R16); the reason a working group has no family member
-- (R7); the R17 special-person facts (sealed: health data, R36); whether
-- a serious case met the law's threshold or only a lowered local one (R9).

-- A relapse after release (R16): a positive test or recorded drug use on
-- or after the release date restarts the three years from its day.
CREATE TABLE relapses (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons(id),
    measure_id  TEXT NOT NULL REFERENCES measures(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    day         DATE NOT NULL,
    source      TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX relapses_source ON relapses(person_id, source, source_key);
CREATE INDEX relapses_measure ON relapses(measure_id, day);

ALTER TABLE measures ADD COLUMN no_relapse_marked_on DATE;
ALTER TABLE measures ADD COLUMN group_family_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX measures_no_relapse ON measures(no_relapse_on) WHERE NOT in_force AND no_relapse_marked_on IS NULL;

ALTER TABLE persons ADD COLUMN special_enc TEXT NOT NULL DEFAULT '';

ALTER TABLE serious_cases ADD COLUMN statutory BOOLEAN NOT NULL DEFAULT TRUE;
