-- Partial name search without reading every matching persons row: each
-- gram row carries the person's status, place and sort key, so counting and
-- paging a name search is an index-only scan (issue 3 benchmark: a
-- 2-character search over 1M persons).
ALTER TABLE person_name_grams ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE person_name_grams ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE person_name_grams ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE person_name_grams SET
    status = (SELECT p.status FROM persons p WHERE p.id = person_name_grams.person_id),
    org_id = (SELECT p.org_id FROM persons p WHERE p.id = person_name_grams.person_id),
    name_key = (SELECT p.name_key FROM persons p WHERE p.id = person_name_grams.person_id);
CREATE INDEX person_name_grams_search ON person_name_grams(gram, status, org_id, name_key, person_id);
