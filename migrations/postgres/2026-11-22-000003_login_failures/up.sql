-- Start of the current window of failed sign-ins (per-account lockout).
ALTER TABLE users ADD COLUMN failed_window_start BIGINT;
