-- Feedback of the constituency on its events: an organisation marks one of
-- its events handled or a false positive, with an optional note. One row
-- per event and organisation; giving it again replaces it.
CREATE TABLE event_feedback (
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    org_id   BIGINT NOT NULL,
    state    TEXT NOT NULL,
    note     TEXT NOT NULL DEFAULT '',
    user_id  BIGINT NOT NULL DEFAULT 0,
    author   TEXT NOT NULL DEFAULT '',
    at       BIGINT NOT NULL,
    PRIMARY KEY (event_id, org_id)
) WITHOUT ROWID;
CREATE INDEX event_feedback_org ON event_feedback (org_id, event_id);
