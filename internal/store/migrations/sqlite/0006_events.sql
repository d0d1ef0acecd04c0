-- Watch and warning: feed definitions, their runs (with per-run
-- quarantine of unusable lines), the chunks each run committed (so a
-- redelivered chunk is never counted twice), the normalised events with
-- the organisations they matched, the lifecycle of blocklist entries, and
-- alert rules that open incidents.
CREATE TABLE feeds (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    format         TEXT NOT NULL,
    url            TEXT NOT NULL DEFAULT '',
    provider       TEXT NOT NULL DEFAULT '',
    tlp            TEXT NOT NULL,
    confidence     INTEGER NOT NULL,
    interval_s     BIGINT NOT NULL DEFAULT 0,
    options        TEXT NOT NULL DEFAULT '{}',
    class          TEXT NOT NULL DEFAULT '',
    type           TEXT NOT NULL DEFAULT '',
    dedup_fields   TEXT NOT NULL DEFAULT '',
    dedup_window_s BIGINT NOT NULL,
    expire_s       BIGINT NOT NULL,
    enabled        INTEGER NOT NULL DEFAULT 1,
    etag           TEXT NOT NULL DEFAULT '',
    last_modified  TEXT NOT NULL DEFAULT '',
    next_run       BIGINT NOT NULL DEFAULT 0,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);

CREATE TABLE feed_runs (
    id           INTEGER PRIMARY KEY,
    feed_id      BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    run_key      TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    input        TEXT NOT NULL DEFAULT '',
    started      BIGINT NOT NULL,
    finished     BIGINT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    bytes        BIGINT NOT NULL DEFAULT 0,
    chunks_total BIGINT NOT NULL DEFAULT -1,
    chunks_done  BIGINT NOT NULL DEFAULT 0,
    lines        BIGINT NOT NULL DEFAULT 0,
    events       BIGINT NOT NULL DEFAULT 0,
    problems     BIGINT NOT NULL DEFAULT 0,
    stored       BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX feed_runs_feed ON feed_runs (feed_id, id);
CREATE INDEX feed_runs_state ON feed_runs (state);

CREATE TABLE feed_problems (
    run_id BIGINT NOT NULL REFERENCES feed_runs (id) ON DELETE CASCADE,
    line   BIGINT NOT NULL,
    reason TEXT NOT NULL,
    raw    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX feed_problems_run ON feed_problems (run_id, line);

CREATE TABLE ingest_chunks (
    run_id BIGINT NOT NULL,
    seq    BIGINT NOT NULL,
    at     BIGINT NOT NULL,
    node   TEXT NOT NULL DEFAULT '',
    events BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    dedup_key     BLOB NOT NULL,
    feed_id       BIGINT NOT NULL,
    run_id        BIGINT NOT NULL,
    class         TEXT NOT NULL,
    type          TEXT NOT NULL,
    src_ip        BLOB,
    src_port      INTEGER NOT NULL DEFAULT 0,
    src_asn       BIGINT NOT NULL DEFAULT 0,
    src_cc        TEXT NOT NULL DEFAULT '',
    src_fqdn      TEXT NOT NULL DEFAULT '',
    src_url       TEXT NOT NULL DEFAULT '',
    dst_ip        BLOB,
    dst_port      INTEGER NOT NULL DEFAULT 0,
    dst_asn       BIGINT NOT NULL DEFAULT 0,
    dst_cc        TEXT NOT NULL DEFAULT '',
    dst_fqdn      TEXT NOT NULL DEFAULT '',
    dst_url       TEXT NOT NULL DEFAULT '',
    protocol      TEXT NOT NULL DEFAULT '',
    malware       TEXT NOT NULL DEFAULT '',
    identifier    TEXT NOT NULL DEFAULT '',
    provider      TEXT NOT NULL DEFAULT '',
    tlp           TEXT NOT NULL,
    confidence    INTEGER NOT NULL,
    source_time   BIGINT NOT NULL,
    observed_time BIGINT NOT NULL,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    count         BIGINT NOT NULL,
    orgs          TEXT NOT NULL DEFAULT '',
    raw           TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX events_key ON events (dedup_key);
CREATE INDEX events_last_seen ON events (last_seen);
CREATE INDEX events_src_ip ON events (src_ip);

CREATE TABLE event_orgs (
    org_id   BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, event_id)
) WITHOUT ROWID;

CREATE TABLE feed_listings (
    feed_id      BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    indicator    TEXT NOT NULL,
    state        TEXT NOT NULL,
    first_listed BIGINT NOT NULL,
    last_listed  BIGINT NOT NULL,
    delisted_at  BIGINT NOT NULL DEFAULT 0,
    last_run     BIGINT NOT NULL,
    PRIMARY KEY (feed_id, indicator)
);
CREATE INDEX feed_listings_state ON feed_listings (feed_id, state);

CREATE TABLE alert_rules (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    org_id    BIGINT NOT NULL DEFAULT 0,
    sector    TEXT NOT NULL DEFAULT '',
    class     TEXT NOT NULL DEFAULT '',
    type      TEXT NOT NULL DEFAULT '',
    feed      TEXT NOT NULL DEFAULT '',
    threshold BIGINT NOT NULL,
    window_s  BIGINT NOT NULL,
    severity  TEXT NOT NULL,
    enabled   INTEGER NOT NULL DEFAULT 1,
    created   BIGINT NOT NULL,
    checked   BIGINT NOT NULL DEFAULT 0
);

-- The incident a rule opened for an organisation, and the events linked
-- to incidents.
CREATE TABLE alert_incidents (
    rule_id     BIGINT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, org_id)
);
CREATE TABLE incident_events (
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    event_id    BIGINT NOT NULL,
    PRIMARY KEY (incident_id, event_id)
);
