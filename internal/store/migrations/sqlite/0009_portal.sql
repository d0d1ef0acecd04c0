-- Requests of a constituent to change its organisation's networks, AS
-- numbers and domains. They change whose data the organisation receives,
-- so a coordinator decides; an approved request is applied in the same
-- transaction. The lists are JSON (focal.Holdings).
CREATE TABLE org_change_requests (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    additions     TEXT NOT NULL,
    removals      TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    requested_by  BIGINT NOT NULL,
    requester     TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    BIGINT NOT NULL DEFAULT 0,
    decider       TEXT NOT NULL DEFAULT '',
    decided_at    BIGINT NOT NULL DEFAULT 0,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX org_change_requests_org ON org_change_requests (org_id, id);
CREATE INDEX org_change_requests_state ON org_change_requests (state, id);
