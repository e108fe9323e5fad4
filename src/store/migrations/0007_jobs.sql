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

-- Deployments as jobs (SPEC 10). A running job holds a lease: lease_owner
-- is the runner that claimed it (a random id per process, so a restarted
-- node never mistakes an old lease for its own) and lease_until the time
-- its heartbeat last pushed forward; past it the job ends failed/lost.
-- cancel_requested asks the runner holding the lease to stop. triggered_by
-- is three columns (who queued it); the API renders them as one object.
ALTER TABLE deployments ADD COLUMN error TEXT;
ALTER TABLE deployments ADD COLUMN ref TEXT;
ALTER TABLE deployments ADD COLUMN "commit" TEXT;
ALTER TABLE deployments ADD COLUMN exit_code INTEGER;
ALTER TABLE deployments ADD COLUMN trigger_type TEXT;
ALTER TABLE deployments ADD COLUMN trigger_id INTEGER;
ALTER TABLE deployments ADD COLUMN trigger_name TEXT;
ALTER TABLE deployments ADD COLUMN lease_owner TEXT;
ALTER TABLE deployments ADD COLUMN lease_until INTEGER;
ALTER TABLE deployments ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN log_size INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deployments_status ON deployments(status, id);

-- A job's log, appended in chunks as the remote command prints (never the
-- whole log rewritten): chunk i covers bytes [start_at, start_at + size).
CREATE TABLE job_log_chunks (
    id         INTEGER PRIMARY KEY,
    job_kind   TEXT NOT NULL,
    job_id     INTEGER NOT NULL,
    start_at   INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    data       BLOB NOT NULL
);
CREATE INDEX job_log_chunks_job ON job_log_chunks(job_kind, job_id, start_at);
