-- Security advisories (CSAF 2.0): the model a handler edits (body, JSON
-- of csaf.Advisory) and its workflow draft → review → published; the
-- published documents the trusted provider serves, written together with
-- their hashes and signature in the transaction that publishes, so the
-- feeds, index and checksums change together; links to incidents; the
-- organisations an advisory concerned when it was published; and the
-- products each organisation declares it runs.
CREATE TABLE advisories (
    id              INTEGER PRIMARY KEY,
    tracking_id     TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL,
    tlp             TEXT NOT NULL,
    severity        TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    body            TEXT NOT NULL,
    author_id       BIGINT NOT NULL DEFAULT 0,
    author          TEXT NOT NULL DEFAULT '',
    editor_id       BIGINT NOT NULL DEFAULT 0,
    editor          TEXT NOT NULL DEFAULT '',
    approver_id     BIGINT NOT NULL DEFAULT 0,
    approver        TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    published_at    BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX advisories_tracking ON advisories (tracking_id) WHERE tracking_id <> '';
CREATE INDEX advisories_state ON advisories (state, id);

CREATE TABLE advisory_documents (
    advisory_id     BIGINT PRIMARY KEY REFERENCES advisories (id) ON DELETE CASCADE,
    tracking_id     TEXT NOT NULL UNIQUE,
    filename        TEXT NOT NULL,
    label           TEXT NOT NULL,
    year            INTEGER NOT NULL,
    title           TEXT NOT NULL,
    version         TEXT NOT NULL,
    initial_release BIGINT NOT NULL,
    current_release BIGINT NOT NULL,
    document        TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    sha512          TEXT NOT NULL,
    signature       TEXT NOT NULL
);
CREATE UNIQUE INDEX advisory_documents_path ON advisory_documents (label, year, filename);
CREATE INDEX advisory_documents_release ON advisory_documents (label, current_release);

CREATE TABLE advisory_incidents (
    advisory_id BIGINT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    incident_id BIGINT NOT NULL,
    PRIMARY KEY (advisory_id, incident_id)
) WITHOUT ROWID;

CREATE TABLE advisory_orgs (
    advisory_id BIGINT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    notified    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (advisory_id, org_id)
) WITHOUT ROWID;
CREATE INDEX advisory_orgs_org ON advisory_orgs (org_id, advisory_id);

CREATE TABLE org_products (
    org_id  BIGINT NOT NULL,
    vendor  TEXT NOT NULL,
    product TEXT NOT NULL,
    PRIMARY KEY (org_id, vendor, product)
) WITHOUT ROWID;
CREATE INDEX org_products_match ON org_products (vendor, product);
