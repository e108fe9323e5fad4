-- Revocation acknowledgements (issue 10, store/postgres/pg_listen.c): each
-- serving node writes here the change_feed counter of each kind that its
-- listener has observed (after this node's generation moved), at once after
-- a NOTIFY and at least every second as its sign of life. A revoking write
-- returns once every node with a recent beat_at has acknowledged its
-- counter (pg_change_wait_visible), or after a bound longer than the
-- listener's health window. A node stopping deletes its rows; the rows of a
-- killed node are pruned after ten minutes. PostgreSQL only: SQLite has one
-- machine and PRAGMA data_version.
CREATE TABLE change_acks (
    node_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    n BIGINT NOT NULL,
    beat_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (node_id, kind)
);
