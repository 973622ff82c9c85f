-- Reopening a sealed file for a new measure (R38; 解除封存, reopen.go): when
-- the office reopened it. The nightly sealing leaves a reopened file alone
-- until a new measure is added (it is sealed again when that one ends and
-- its retention passes), or, when none comes, until the grace period after
-- the reopening has passed.
ALTER TABLE persons ADD COLUMN unsealed_at TIMESTAMPTZ;
