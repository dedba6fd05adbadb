-- Two-factor sign-in. `users.totp_enabled_at` says whether it is on (NULL:
-- off); the TOTP secret lives in a table of its own so that no query of
-- users ever reads it. A secret whose user has no `totp_enabled_at` is an
-- enrollment not yet confirmed. `last_step` is the last 30-second step a
-- code was accepted for: a step at or before it is refused (no replay).
ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT;
CREATE TABLE totp_secrets (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,                    -- base32
    last_step BIGINT,
    created_at BIGINT NOT NULL
);
-- Single-use recovery codes, stored as their SHA-256 (they are random, 80 bits).
CREATE TABLE recovery_codes (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_user_id_idx ON recovery_codes (user_id);
