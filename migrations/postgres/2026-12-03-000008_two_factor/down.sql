DROP INDEX recovery_codes_user_id_idx;
DROP TABLE recovery_codes;
DROP TABLE totp_secrets;
ALTER TABLE users DROP COLUMN totp_enabled_at;
