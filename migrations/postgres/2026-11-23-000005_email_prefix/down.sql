DROP INDEX users_email_prefix_idx;
