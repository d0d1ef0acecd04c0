-- Full-text search over incidents (reference, title, description): an
-- FTS5 index kept in step with incidents.search by triggers.
CREATE VIRTUAL TABLE incidents_fts USING fts5(search, content='incidents', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');
CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF search ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO incidents_fts (rowid, search) VALUES (new.id, new.search);
END;
