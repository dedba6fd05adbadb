-- The admin users table at 100,000 users: every query it makes is served by
-- an index.
-- Substring search of email and name (ILIKE '%q%'): pg_trgm GIN indexes.
-- The extension is database-wide: it is created once (in `public`, under a
-- lock, since instances or test schemas may migrate at the same time), or
-- used from wherever it already is. Where it can't be created (no
-- privilege, not installed), the search still works, by scanning.
DO $$
DECLARE
    trgm_schema name;
BEGIN
    PERFORM pg_advisory_xact_lock(72081271);
    SELECT extnamespace::regnamespace::name INTO trgm_schema FROM pg_extension WHERE extname = 'pg_trgm';
    IF trgm_schema IS NULL THEN
        BEGIN
            CREATE EXTENSION pg_trgm WITH SCHEMA public;
            trgm_schema := 'public';
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'pg_trgm is not available (%): user search will scan the users table', SQLERRM;
            RETURN;
        END;
    END IF;
    EXECUTE format('CREATE INDEX users_email_trgm_idx ON users USING gin (email %I.gin_trgm_ops)', trgm_schema);
    EXECUTE format('CREATE INDEX users_name_trgm_idx ON users USING gin (name %I.gin_trgm_ops)', trgm_schema);
END
$$;
-- Sorting by last sign-in (most recent first, never last), and the audit
-- log by email.
CREATE INDEX users_last_sign_in_idx ON users (last_sign_in_at DESC NULLS LAST, id DESC);
CREATE INDEX audit_events_email_idx ON audit_events (email, at);
