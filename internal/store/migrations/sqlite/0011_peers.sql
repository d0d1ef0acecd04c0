-- Federation (issue #7), the client side: the TAXII 2.1 servers this node
-- polls (peers), each for one remote collection, with the state of the
-- link, and the object versions imported from each (provenance and
-- deduplication).
--
-- Times are milliseconds since the epoch. cursor is the peer's own
-- X-TAXII-Date-Added-Last, kept as text and sent back as added_after, so
-- the clocks of the two nodes never meet. secret is a password or bearer
-- token that this node sends to the peer; it is never listed.
CREATE TABLE peers (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    api_root          TEXT NOT NULL,              -- https URL of the TAXII API root, ending in /
    collection        TEXT NOT NULL,              -- the remote collection's id (or alias)
    ca_pem            TEXT NOT NULL DEFAULT '',   -- CA certificates to trust for it; '' = the system's
    auth              TEXT NOT NULL DEFAULT 'none', -- none, basic or bearer
    username          TEXT NOT NULL DEFAULT '',
    secret            TEXT NOT NULL DEFAULT '',
    account           TEXT NOT NULL DEFAULT '',   -- local peer account the node uses to send us push hints
    import_collection TEXT REFERENCES taxii_collections (id) ON DELETE SET NULL,
    poll_interval_ms  BIGINT NOT NULL DEFAULT 60000,
    enabled           INTEGER NOT NULL DEFAULT 1,
    no_hints          INTEGER NOT NULL DEFAULT 0, -- the node answered 404 to a hint: not a focal node
    cursor            TEXT NOT NULL DEFAULT '',
    last_attempt      BIGINT NOT NULL DEFAULT 0,
    last_success      BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    failures          INTEGER NOT NULL DEFAULT 0, -- consecutive failed polls
    objects_imported  BIGINT NOT NULL DEFAULT 0,
    lag_ms            BIGINT NOT NULL DEFAULT 0,
    next_poll_at      BIGINT NOT NULL DEFAULT 0,
    hinted_at         BIGINT NOT NULL DEFAULT 0,  -- last "poll now" (hint, operator)
    lease_holder      TEXT NOT NULL DEFAULT '',
    lease_until       BIGINT NOT NULL DEFAULT 0,  -- a process polls the peer until then
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX peers_due ON peers (next_poll_at);
CREATE INDEX peers_account ON peers (account);

CREATE TABLE peer_objects (
    peer_id     INTEGER NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
    stix_id     TEXT NOT NULL,
    version     BIGINT NOT NULL,                  -- modified, else created (µs); 0 for observables
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (peer_id, stix_id, version)
);
