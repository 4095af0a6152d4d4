-- yaoshi keystore schema, version 1.
--
-- Portable SQL shared by SQLite and PostgreSQL. The only back-end specific
-- token is {{blob}}, which the migration runner replaces with BLOB (SQLite)
-- or BYTEA (PostgreSQL). Applied in one transaction together with its
-- schema_migrations row.

-- System entries: seal configuration, wrapping keys, ... (opaque bytes).
CREATE TABLE entries (
    name TEXT NOT NULL PRIMARY KEY,
    value {{blob}} NOT NULL
);

-- Namespaces and their KEKs, sealed under the root key.
CREATE TABLE namespaces (
    name TEXT NOT NULL PRIMARY KEY,
    sealed_kek {{blob}} NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per key; `generation` is the compare-and-set token.
CREATE TABLE keys (
    id TEXT NOT NULL PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    generation BIGINT NOT NULL,
    metadata {{blob}} NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- At most one key per (namespace, name) that is not destroyed; also serves
-- get_key and list_keys.
CREATE UNIQUE INDEX keys_live_name ON keys (namespace, name) WHERE state <> 'destroyed';

-- Key versions; sealed_material is NULL once erased.
CREATE TABLE key_versions (
    key_id TEXT NOT NULL REFERENCES keys (id),
    version BIGINT NOT NULL,
    sealed_material {{blob}},
    created_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, version)
);
