-- The dashboard (SPEC 5): server-side sessions and the one-time first-run
-- setup secret. Only SHA-256 digests of the session id and of the setup
-- secret are stored; the plain values live in the browser's cookie and in
-- the link printed on the console. Times are epoch seconds.

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    digest        BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    addr          TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- At most one unused secret at a time: each start without users replaces it.
CREATE TABLE setup_secrets (
    digest      BLOB PRIMARY KEY CHECK (length(digest) = 32),
    created_at  INTEGER NOT NULL,
    used_at     INTEGER
);
