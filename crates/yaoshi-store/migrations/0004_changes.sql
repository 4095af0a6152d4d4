-- yaoshi change counter, schema version 4.
--
-- One row whose value grows by one in the same transaction as every change
-- to the rows nodes keep in memory (entries: tokens, principals, mounts,
-- configuration; keys and their versions). A node that reads the value at
-- the start of a request and finds it unchanged knows its cached rows are
-- current (the version check of DESIGN section 5).
CREATE TABLE change_counter (
    id INTEGER NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);
