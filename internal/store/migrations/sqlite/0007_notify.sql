-- Notifications to the constituency: each organisation's policy (JSON of
-- notify.Policy; absent means the default derived from its contacts), the
-- messages queued and sent with the exact bytes to deliver, the events
-- each message carried (so an event is never sent twice to one
-- organisation), and per organisation the time of its last digest.
CREATE TABLE notify_policies (
    org_id     BIGINT PRIMARY KEY,
    policy     TEXT NOT NULL,
    updated    BIGINT NOT NULL,
    updated_by BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    reference    TEXT NOT NULL UNIQUE,
    org_id       BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    mail_from    TEXT NOT NULL DEFAULT '',
    recipients   TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    tlp          TEXT NOT NULL DEFAULT '',
    part         INTEGER NOT NULL DEFAULT 1,
    parts        INTEGER NOT NULL DEFAULT 1,
    events       BIGINT NOT NULL DEFAULT 0,
    raw          BLOB NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notifications_due ON notifications (state, next_attempt);
CREATE INDEX notifications_org ON notifications (org_id, id);

CREATE TABLE notification_events (
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    org_id          BIGINT NOT NULL,
    event_id        BIGINT NOT NULL,
    PRIMARY KEY (notification_id, event_id)
) WITHOUT ROWID;
CREATE INDEX notification_events_org ON notification_events (org_id, event_id);

CREATE TABLE notify_marks (
    org_id      BIGINT PRIMARY KEY,
    last_digest BIGINT NOT NULL
);
