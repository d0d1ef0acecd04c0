-- focal_meta holds node-wide facts: the node id, whether this is a demo
-- database, the schema's creation time.
CREATE TABLE focal_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
