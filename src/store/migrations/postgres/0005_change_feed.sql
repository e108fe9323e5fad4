-- The change feed (store/change.h): one counter per kind of change, moved
-- by every write transaction for the kinds it changed, inside that same
-- transaction (store/postgres/pg_change.c, which also NOTIFYs piora_change).
-- A node reads these few rows to learn which kinds moved, so a usage-log
-- batch does not empty the caches of tokens and list pages. Kinds are stored by name;
-- a kind a later migration adds gets its own row.
CREATE TABLE change_feed (
    kind TEXT PRIMARY KEY,
    n BIGINT NOT NULL DEFAULT 0
);
INSERT INTO change_feed(kind) VALUES ('tokens'), ('users'), ('objects'), ('sessions'), ('monitor');
