-- Rate limits shared by every server (issue 16 §2): one token bucket per
-- row, named by bucket ("login:", "activate:" or "survey:" and a keyed hash
-- of the client's address: no address is kept), taken from in one statement
-- (ratelimit.go). tokens is what the bucket held at at_ms (Unix
-- milliseconds); every_ms the time one token takes to come back and burst
-- the bucket's size; full_at (Unix ms) when the bucket is full again, after
-- which the row says nothing an absent row would not and is pruned.
CREATE TABLE rate_limits (
    bucket   TEXT PRIMARY KEY,
    tokens   REAL NOT NULL,
    at_ms    INTEGER NOT NULL,
    every_ms INTEGER NOT NULL,
    burst    INTEGER NOT NULL,
    full_at  INTEGER NOT NULL
);
CREATE INDEX rate_limits_full_at ON rate_limits (full_at);
