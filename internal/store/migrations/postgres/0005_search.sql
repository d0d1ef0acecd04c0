-- Full-text search over incidents (reference, title, description): a
-- generated tsvector with a GIN index; 'simple' keeps every word as typed,
-- whatever the language of the report.
ALTER TABLE incidents ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
CREATE INDEX incidents_search ON incidents USING GIN (search_tsv);
