-- Registration mails sent, one row each: a pending account (with the SHA-256
-- of its confirmation link's token) or a note to an address that already has
-- an account (no token). Rows past their use are swept as new ones come.
CREATE TABLE registrations (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    next TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX registrations_email_idx ON registrations (email, created_at);
CREATE INDEX registrations_created_at_idx ON registrations (created_at);
