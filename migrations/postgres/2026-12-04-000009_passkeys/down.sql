DROP INDEX passkey_challenges_expires_at_idx;
DROP TABLE passkey_challenges;
DROP INDEX passkey_sessions_passkey_id_idx;
DROP TABLE passkey_sessions;
DROP INDEX passkeys_user_id_name_idx;
DROP TABLE passkeys;
DROP TABLE passkey_users;
