-- The admin users table at 100,000 users: every query it makes is served by
-- an index.
-- Substring search of email and name: an FTS5 trigram index (case-insensitive;
-- queries of 3 characters or more), kept in step with `users` by triggers.
CREATE VIRTUAL TABLE users_search USING fts5(
    email, name, content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, name) VALUES (new.id, new.email, new.name);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name) VALUES ('delete', old.id, old.email, old.name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, name ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name) VALUES ('delete', old.id, old.email, old.name);
    INSERT INTO users_search (rowid, email, name) VALUES (new.id, new.email, new.name);
END;
-- Sorting by last sign-in (most recent first), and the audit log by email.
CREATE INDEX users_last_sign_in_idx ON users (last_sign_in_at, id);
CREATE INDEX audit_events_email_idx ON audit_events (email, at);
