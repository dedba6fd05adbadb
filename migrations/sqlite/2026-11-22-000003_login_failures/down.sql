ALTER TABLE users DROP COLUMN failed_window_start;
