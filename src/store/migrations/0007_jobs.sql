-- The job runner (issue 9). Team SSH key pairs: the private key only sealed
-- with the master key file (auth/sshkey.c), never in plain. A team has at
-- most one current key and one previous key (offered while rotation settles).
CREATE TABLE ssh_keys (
    id           INTEGER PRIMARY KEY,
    team_id      INTEGER NOT NULL REFERENCES teams(id),
    is_current   INTEGER NOT NULL CHECK (is_current IN (0, 1)),
    public_key   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (team_id, is_current)
);

-- Host keys (SPEC 10): the pinned SHA256 fingerprint of a server's host key,
-- and when POST /servers/{id}/check last ran (its outcome is `status`).
ALTER TABLE servers ADD COLUMN host_key_fingerprint TEXT;
ALTER TABLE servers ADD COLUMN checked_at INTEGER;
