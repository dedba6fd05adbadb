-- The per-address sign-in limits of PostgreSQL, shared by the instances on
-- one database (see migrations/postgres). On SQLite the limits are kept in
-- memory and this table stays empty: it is here so both backends have the
-- same schema.
CREATE TABLE sign_in_limits (
    kind TEXT NOT NULL,
    ip TEXT NOT NULL,
    tat BIGINT NOT NULL,
    PRIMARY KEY (kind, ip)
);
