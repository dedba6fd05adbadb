-- The pg_trgm extension stays: other schemas of the database may use it.
DROP INDEX audit_events_email_idx;
DROP INDEX users_last_sign_in_idx;
DROP INDEX IF EXISTS users_name_trgm_idx;
DROP INDEX IF EXISTS users_email_trgm_idx;
