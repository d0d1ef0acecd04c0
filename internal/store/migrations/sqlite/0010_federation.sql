-- Federation (issue #7): TAXII 2.1 collections and their objects, and the
-- sharing groups that decide which peers and constituent organisations may
-- read or write which collection, and up to which TLP label.
--
-- Times are microseconds since the epoch (TAXII timestamps have microsecond
-- precision). date_added is strictly increasing within a collection: the
-- writer takes max(now, last_added + 1) while holding the collection row.
CREATE TABLE taxii_collections (
    id          TEXT PRIMARY KEY,             -- UUIDv4
    alias       TEXT UNIQUE,                  -- NULL for none
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    public      INTEGER NOT NULL DEFAULT 0,   -- served read-only, TLP:CLEAR only, on the public API root
    last_added  BIGINT NOT NULL DEFAULT 0,    -- date_added of the newest object
    created_at  BIGINT NOT NULL
);

CREATE TABLE sharing_groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    ceiling     TEXT NOT NULL,                -- GREEN (community) or AMBER (need-to-know)
    created_at  BIGINT NOT NULL
);

-- A member is a peer account (user_id) or a constituent organisation
-- (org_id), never both.
CREATE TABLE sharing_group_members (
    id       INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES sharing_groups (id) ON DELETE CASCADE,
    user_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    org_id   INTEGER REFERENCES organisations (id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX sharing_group_members_user ON sharing_group_members (group_id, user_id);
CREATE UNIQUE INDEX sharing_group_members_org ON sharing_group_members (group_id, org_id);
CREATE INDEX sharing_group_members_by_user ON sharing_group_members (user_id);
CREATE INDEX sharing_group_members_by_org ON sharing_group_members (org_id);

CREATE TABLE sharing_group_collections (
    group_id      INTEGER NOT NULL REFERENCES sharing_groups (id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
    can_read      INTEGER NOT NULL DEFAULT 0,
    can_write     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, collection_id)
);
CREATE INDEX sharing_group_collections_collection ON sharing_group_collections (collection_id);

CREATE TABLE taxii_objects (
    seq           INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
    stix_id       TEXT NOT NULL,
    type          TEXT NOT NULL,
    spec_version  TEXT NOT NULL,
    version       BIGINT NOT NULL,            -- modified, else created (µs)
    date_added    BIGINT NOT NULL,            -- µs, strictly increasing per collection
    tlp           TEXT NOT NULL DEFAULT '',   -- '' = unlabelled (released as AMBER)
    org_id        BIGINT,                     -- the organisation an object concerns (AMBER+STRICT)
    source        TEXT NOT NULL,              -- 'local' or 'user:<id>' of the peer that sent it
    body          TEXT NOT NULL,              -- the object's JSON, as stored and served
    UNIQUE (collection_id, stix_id, version)
);
CREATE INDEX taxii_objects_added ON taxii_objects (collection_id, date_added, seq);

CREATE TABLE taxii_status (
    id                TEXT PRIMARY KEY,       -- UUIDv4
    collection_id     TEXT NOT NULL,
    user_id           BIGINT NOT NULL,
    request_timestamp BIGINT NOT NULL,
    total_count       INTEGER NOT NULL,
    success_count     INTEGER NOT NULL,
    failure_count     INTEGER NOT NULL,
    pending_count     INTEGER NOT NULL,
    successes         TEXT NOT NULL DEFAULT '[]',
    failures          TEXT NOT NULL DEFAULT '[]',
    pendings          TEXT NOT NULL DEFAULT '[]',
    created_at        BIGINT NOT NULL
);
CREATE INDEX taxii_status_created ON taxii_status (created_at);
