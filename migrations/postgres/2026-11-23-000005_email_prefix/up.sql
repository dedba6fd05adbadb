-- Searches of one or two characters match the start of the email (there is
-- no trigram to look up): LIKE 'q%' served by an index, whatever the
-- database's collation.
CREATE INDEX users_email_prefix_idx ON users (email text_pattern_ops);
