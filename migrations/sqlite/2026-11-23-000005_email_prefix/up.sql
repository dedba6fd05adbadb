-- Searches of one or two characters match the start of the email, served by
-- the email column's own unique index (GLOB 'q*', emails being stored
-- lower-cased). Nothing to add; this keeps the backends' migrations in step.
SELECT 1;
