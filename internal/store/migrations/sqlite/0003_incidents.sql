-- Incident handling: incidents with RSIT classifications, an immutable
-- journal, tasks, observables, attachments (stored outside the database,
-- by hash), links between incidents, and SLA targets.
CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    ref               TEXT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    severity          TEXT NOT NULL,
    tlp               TEXT NOT NULL,
    pap               TEXT NOT NULL,
    status            TEXT NOT NULL,
    waiting_on        TEXT NOT NULL DEFAULT '',
    assignee_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    org_id            INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
    sector            TEXT NOT NULL DEFAULT '',
    critical_infra    INTEGER NOT NULL DEFAULT 0,
    channel           TEXT NOT NULL DEFAULT '',
    reporter_name     TEXT NOT NULL DEFAULT '',
    reporter_email    TEXT NOT NULL DEFAULT '',
    reporter_phone    TEXT NOT NULL DEFAULT '',
    reporter_org      TEXT NOT NULL DEFAULT '',
    merged_into       INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    restricted        INTEGER NOT NULL DEFAULT 0,
    primary_class     TEXT NOT NULL DEFAULT '',   -- first classification's class, for filters and metrics
    reported_at       BIGINT NOT NULL,
    acknowledged_at   BIGINT NOT NULL DEFAULT 0,  -- milestones: unix ms, 0 = not reached; set once
    triaged_at        BIGINT NOT NULL DEFAULT 0,
    first_response_at BIGINT NOT NULL DEFAULT 0,
    contained_at      BIGINT NOT NULL DEFAULT 0,
    resolved_at       BIGINT NOT NULL DEFAULT 0,
    closed_at         BIGINT NOT NULL DEFAULT 0,
    waiting_since     BIGINT NOT NULL DEFAULT 0,
    waiting_ms        BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    search            TEXT NOT NULL DEFAULT ''    -- lower-cased ref, title and description for text search
);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_org ON incidents (org_id, id);
CREATE INDEX incidents_assignee ON incidents (assignee_id, id);
CREATE INDEX incidents_class ON incidents (primary_class, id);
CREATE INDEX incidents_reported ON incidents (reported_at);

CREATE TABLE incident_classes (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    class       TEXT NOT NULL,
    type        TEXT NOT NULL DEFAULT '',
    weight      DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_id, position)
);
CREATE INDEX incident_classes_class ON incident_classes (class, type);

CREATE TABLE incident_journal (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    author_id   BIGINT NOT NULL,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,                    -- note, email_in, email_out, state, assignment, classification, view, merge, system
    tlp         TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    meta        TEXT NOT NULL DEFAULT ''          -- JSON details
);
CREATE INDEX incident_journal_incident ON incident_journal (incident_id, id);

CREATE TABLE incident_tasks (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    owner_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    due_at      BIGINT NOT NULL DEFAULT 0,
    done_at     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id);

CREATE TABLE incident_observables (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    tlp         TEXT NOT NULL,
    source      TEXT NOT NULL,                    -- extracted or manual
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, kind, value)
);
CREATE INDEX incident_observables_value ON incident_observables (kind, value);

CREATE TABLE incident_attachments (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    tlp          TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments (incident_id);
CREATE INDEX incident_attachments_sha256 ON incident_attachments (sha256);

CREATE TABLE sla_targets (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER REFERENCES organisations (id) ON DELETE CASCADE, -- NULL = the default for everyone
    severity        TEXT NOT NULL,
    acknowledge_min INTEGER NOT NULL,
    triage_min      INTEGER NOT NULL,
    resolve_min     INTEGER NOT NULL,
    business_hours  INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sla_targets_key ON sla_targets (COALESCE(org_id, 0), severity);

CREATE TABLE incident_refs (
    year INTEGER PRIMARY KEY,
    last BIGINT NOT NULL                          -- last sequence number issued in that year
);

-- Handlers explicitly granted sight of restricted categories.
ALTER TABLE users ADD COLUMN restricted_access INTEGER NOT NULL DEFAULT 0;
