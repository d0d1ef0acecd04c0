-- People, organisations and trust: the constituency registry, accounts,
-- sessions, API tokens and the hash-chained audit log.
CREATE TABLE organisations (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL UNIQUE,     -- lower-cased name: names are unique regardless of case
    sector         TEXT NOT NULL,
    critical_infra INTEGER NOT NULL DEFAULT 0,
    country        TEXT NOT NULL,
    notify         TEXT NOT NULL DEFAULT '{}', -- JSON NotifyPrefs
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE TABLE org_networks (
    org_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    cidr   TEXT NOT NULL,
    PRIMARY KEY (org_id, cidr)
);
CREATE TABLE org_asns (
    org_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    asn    BIGINT NOT NULL,
    PRIMARY KEY (org_id, asn)
);
CREATE INDEX org_asns_asn ON org_asns (asn);
CREATE TABLE org_domains (
    org_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (org_id, domain)
);
CREATE INDEX org_domains_domain ON org_domains (domain);
CREATE TABLE org_contacts (
    org_id   INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    email    TEXT NOT NULL,
    role     TEXT NOT NULL,
    name     TEXT NOT NULL DEFAULT '',
    pgp_key  TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, position)
);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    org_id              INTEGER REFERENCES organisations (id) ON DELETE RESTRICT,
    password_hash       TEXT NOT NULL DEFAULT '',
    disabled            INTEGER NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    last_login_at       BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,           -- sha256 of the cookie value; the value itself is never stored
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    remote       TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,       -- sha256 of the token
    scope        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          BIGINT NOT NULL,             -- unix microseconds
    actor_id    BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    remote      TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json  TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_at ON audit_log (at);
