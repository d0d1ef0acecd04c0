-- The sent log's "which events did this notification carry" moves from
-- its own table onto event_orgs: each (organisation, event) pair records
-- the notification that carried it (0: not yet notified). One B-tree
-- instead of two, and finding an organisation's pending events no longer
-- probes a second index per row — digests for 10,000 organisations over
-- 10 million events are bound by exactly these reads and writes.
ALTER TABLE event_orgs ADD COLUMN notification_id BIGINT NOT NULL DEFAULT 0;
UPDATE event_orgs SET notification_id = (
    SELECT MAX(ne.notification_id) FROM notification_events ne
    WHERE ne.org_id = event_orgs.org_id AND ne.event_id = event_orgs.event_id)
WHERE EXISTS (SELECT 1 FROM notification_events ne
    WHERE ne.org_id = event_orgs.org_id AND ne.event_id = event_orgs.event_id);
DROP TABLE notification_events;
