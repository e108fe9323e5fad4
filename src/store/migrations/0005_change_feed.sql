-- The change feed (store/change.h): one counter per kind of change, moved
-- by every write transaction for the kinds it changed, inside that same
-- transaction. A connection that sees PRAGMA data_version move reads these
-- few rows to learn which kinds moved, so a usage-log batch no longer
-- empties the caches of tokens and list pages. Kinds are stored by name;
-- a kind a later migration adds gets its own row.
CREATE TABLE change_feed (
    kind TEXT PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO change_feed(kind) VALUES ('tokens'), ('users'), ('objects'), ('sessions'), ('monitor');
