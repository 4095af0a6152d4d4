-- yaoshi scheduler leases, schema version 3.
--
-- One row per named lease. A node takes or renews a lease with one
-- conditional upsert (`ON CONFLICT ... DO UPDATE ... WHERE`), so of several
-- nodes racing for a free or expired lease exactly one wins.
CREATE TABLE leases (
    name TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
