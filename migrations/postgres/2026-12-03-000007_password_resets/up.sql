-- Forgotten-password mails sent, one row each: a reset link for an account
-- (with the SHA-256 of the link's token) or a note (no account, disabled
-- account: no token, no user). Rows past their use are swept as new ones come.
CREATE TABLE password_resets (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT UNIQUE,
    next TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_email_idx ON password_resets (email, created_at);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);
CREATE INDEX password_resets_created_at_idx ON password_resets (created_at);
