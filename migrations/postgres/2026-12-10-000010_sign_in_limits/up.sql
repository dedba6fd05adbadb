-- The per-address sign-in limits, shared by every instance on this
-- database: one row per address (an IPv6 /64) and kind ('attempt',
-- 'start'), holding the generic cell rate algorithm's "theoretical arrival
-- time" in microseconds of the database's clock. A row whose time has
-- passed means the same as no row; such rows are deleted now and then.
-- UNLOGGED: no write-ahead log for counts that may be lost in a crash.
CREATE UNLOGGED TABLE sign_in_limits (
    kind TEXT NOT NULL,
    ip TEXT NOT NULL,
    tat BIGINT NOT NULL,
    PRIMARY KEY (kind, ip)
);
