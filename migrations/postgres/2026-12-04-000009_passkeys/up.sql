-- Passkeys (WebAuthn). Each user who registers one gets a random user
-- handle (a UUID), the id authenticators store and hand back at a
-- discoverable sign-in; it says nothing about the account.
CREATE TABLE passkey_users (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    handle TEXT NOT NULL UNIQUE
);
-- One row per credential: `passkey` is webauthn-rs's Passkey as JSON (the
-- public key, the signature counter, the backup flags); `backed_up` says
-- whether it is synced (a copy of its key is elsewhere) or device-bound.
CREATE TABLE passkeys (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,      -- base64url, no padding
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    backed_up BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX passkeys_user_id_name_idx ON passkeys (user_id, name);
-- Which passkey started a session: removing the passkey (a lost device)
-- signs those sessions out.
CREATE TABLE passkey_sessions (
    session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    passkey_id INTEGER NOT NULL REFERENCES passkeys (id) ON DELETE CASCADE
);
CREATE INDEX passkey_sessions_passkey_id_idx ON passkey_sessions (passkey_id);
-- Ceremonies under way: the id is the SHA-256 of the one handed to the
-- client; `bind` the SHA-256 of the browser's anonymous CSRF value (NULL for
-- the JSON API); `state` webauthn-rs's state as JSON. A finish deletes the
-- row it uses (single use); rows past `expires_at` are swept.
CREATE TABLE passkey_challenges (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,                   -- register | login | second_factor
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    bind TEXT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_challenges_expires_at_idx ON passkey_challenges (expires_at);
