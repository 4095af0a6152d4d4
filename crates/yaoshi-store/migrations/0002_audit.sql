-- yaoshi audit log, schema version 2.
--
-- The chain head is one row that every appending transaction updates, so
-- appends from all nodes serialise into one chain (SQLite: the database
-- write lock; PostgreSQL: the row lock). `hash` is NULL until the first
-- record is appended.
CREATE TABLE audit_head (
    id INTEGER NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash {{blob}}
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, NULL);

-- One row per audited request; `hash` chains it to the row before.
CREATE TABLE audit_records (
    seq BIGINT NOT NULL PRIMARY KEY,
    time BIGINT NOT NULL,
    prev_hash {{blob}} NOT NULL,
    hash {{blob}} NOT NULL,
    body {{blob}} NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (time);

-- Signed checkpoints (tree heads) and the Merkle frontier at each.
CREATE TABLE audit_checkpoints (
    tree_size BIGINT NOT NULL PRIMARY KEY,
    time BIGINT NOT NULL,
    body {{blob}} NOT NULL,
    frontier {{blob}} NOT NULL
);
