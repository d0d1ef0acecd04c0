-- Readiness assessments (issue #9): framework versions (immutable once an
-- assessment uses them), assessments of a subject and period with their
-- answers and evidence, targets, and reference series imported from
-- published benchmarks, kept apart from the subject's own scores.
CREATE TABLE assess_frameworks (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,
    version     TEXT NOT NULL,
    title       TEXT NOT NULL,
    method      TEXT NOT NULL,
    body        TEXT NOT NULL,             -- the framework file as imported
    sha256      TEXT NOT NULL,             -- of the canonical body
    used        INTEGER NOT NULL DEFAULT 0, -- an assessment uses it: it may no longer change
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL DEFAULT '',
    UNIQUE (key, version)
);
CREATE TABLE assessments (
    id            INTEGER PRIMARY KEY,
    subject_kind  TEXT NOT NULL,           -- country, sector, organisation
    subject       TEXT NOT NULL,           -- a code, e.g. ISO 3166 alpha-3 for a country
    subject_name  TEXT NOT NULL,
    period        TEXT NOT NULL,           -- e.g. 2025 or 2025-H1
    year          INTEGER NOT NULL,
    framework_id  BIGINT NOT NULL REFERENCES assess_frameworks (id),
    method        TEXT NOT NULL,
    state         TEXT NOT NULL,           -- draft, submitted, validated, published
    revision      INTEGER NOT NULL DEFAULT 1,
    previous_id   BIGINT NOT NULL DEFAULT 0, -- the published revision this one corrects
    superseded    INTEGER NOT NULL DEFAULT 0,
    respondents   TEXT NOT NULL DEFAULT '[]', -- JSON list of names
    author_id     BIGINT NOT NULL DEFAULT 0,
    author        TEXT NOT NULL DEFAULT '',
    validator_id  BIGINT NOT NULL DEFAULT 0,
    validator     TEXT NOT NULL DEFAULT '',
    publisher_id  BIGINT NOT NULL DEFAULT 0,
    publisher     TEXT NOT NULL DEFAULT '',
    score         TEXT NOT NULL DEFAULT '',  -- JSON assess.Result, frozen at validation
    public_score  TEXT NOT NULL DEFAULT '',  -- the same on public evidence only
    diff          TEXT NOT NULL DEFAULT '',  -- JSON diff against the previous revision
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    submitted_at  BIGINT NOT NULL DEFAULT 0,
    validated_at  BIGINT NOT NULL DEFAULT 0,
    published_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX assessments_subject ON assessments (subject, year);
CREATE TABLE assess_answers (
    assessment_id   BIGINT NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    item            TEXT NOT NULL,
    value           TEXT NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    evidence_url    TEXT NOT NULL DEFAULT '',
    evidence_sha256 TEXT NOT NULL DEFAULT '',
    evidence_name   TEXT NOT NULL DEFAULT '',
    evidence_date   TEXT NOT NULL DEFAULT '', -- the day the evidence applies to
    uploaded_at     BIGINT NOT NULL DEFAULT 0,
    visibility      TEXT NOT NULL DEFAULT '',
    review_by       TEXT NOT NULL DEFAULT '',
    link_broken     INTEGER NOT NULL DEFAULT 0,
    link_status     TEXT NOT NULL DEFAULT '',
    link_checked_at BIGINT NOT NULL DEFAULT 0,
    measured        TEXT NOT NULL DEFAULT '', -- JSON assess.Measurement
    answered_by     TEXT NOT NULL DEFAULT '',
    answered_at     BIGINT NOT NULL,
    PRIMARY KEY (assessment_id, item)
);
CREATE INDEX assess_answers_links ON assess_answers (link_checked_at) WHERE evidence_url <> '';
CREATE TABLE assess_targets (
    id            INTEGER PRIMARY KEY,
    subject       TEXT NOT NULL,
    framework_key TEXT NOT NULL,
    assessment_id BIGINT NOT NULL REFERENCES assessments (id), -- the baseline
    definition    TEXT NOT NULL,           -- JSON assess.Target
    value         REAL NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assess_targets_subject ON assess_targets (subject);
CREATE TABLE assess_series (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,             -- e.g. gci-overall, internet-users
    vintage     TEXT NOT NULL,             -- the source's edition or retrieval date
    source      TEXT NOT NULL DEFAULT '',
    licence     TEXT NOT NULL DEFAULT '',
    unit        TEXT NOT NULL DEFAULT '',
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL DEFAULT '',
    UNIQUE (name, vintage)
);
CREATE TABLE assess_series_points (
    series_id BIGINT NOT NULL REFERENCES assess_series (id) ON DELETE CASCADE,
    subject   TEXT NOT NULL,
    year      INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (series_id, subject, year)
);
