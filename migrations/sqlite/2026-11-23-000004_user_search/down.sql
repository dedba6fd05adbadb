DROP INDEX audit_events_email_idx;
DROP INDEX users_last_sign_in_idx;
DROP TRIGGER users_search_update;
DROP TRIGGER users_search_delete;
DROP TRIGGER users_search_insert;
DROP TABLE users_search;
