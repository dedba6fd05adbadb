-- Users, sessions and audit events for the whole contract (see PRODUCT.md, "Data").
-- Times are Unix seconds (UTC) so the same schema.rs serves SQLite and PostgreSQL.
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,              -- stored lower-cased: unique case-insensitively
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,                      -- NULL for Google-only accounts
    google_sub TEXT UNIQUE,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_sign_in_at BIGINT
);
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_name_idx ON users (name);
CREATE INDEX users_created_at_idx ON users (created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,            -- random UUID, carried as `sid` in every token
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    remember BOOLEAN NOT NULL DEFAULT FALSE,
    method TEXT NOT NULL DEFAULT 'password', -- password | google | api
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,              -- absolute end of the session
    revoked_at BIGINT,
    refresh_jti TEXT,                        -- the one refresh token currently valid
    previous_refresh_jti TEXT,               -- the one it replaced (reuse detection, grace window)
    refreshed_at BIGINT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, revoked_at);

CREATE TABLE audit_events (
    id SERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    email TEXT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, at);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, at);
