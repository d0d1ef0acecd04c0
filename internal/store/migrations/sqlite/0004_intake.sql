-- Intake that could not be turned into a report is kept, never dropped:
-- the raw bytes in the data directory, a row here for handlers to review.
CREATE TABLE quarantine (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    source   TEXT NOT NULL,          -- smtp, api, feed:NAME …
    sender   TEXT NOT NULL DEFAULT '',
    reason   TEXT NOT NULL,
    size     BIGINT NOT NULL,
    sha256   TEXT NOT NULL,
    path     TEXT NOT NULL,          -- relative to the data directory
    resolved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX quarantine_at ON quarantine (at);
