-- The PostgreSQL twin of ../0013_backup_jobs.sql.
-- Backups and restores as jobs of the runner (issue 11), with what every job
-- has (SPEC 10): started_at, finished_at, error, triggered_by (three
-- columns, rendered as one object), and the lease the runner holds while it
-- runs one (lease_owner, lease_until: past it the job ends failed/lost),
-- cancel_requested, and log_size (the log is in job_log_chunks with
-- job_kind 'backup' or 'restore').
ALTER TABLE backups ADD COLUMN started_at BIGINT;
ALTER TABLE backups ADD COLUMN finished_at BIGINT;
ALTER TABLE backups ADD COLUMN error TEXT;
ALTER TABLE backups ADD COLUMN trigger_type TEXT;
ALTER TABLE backups ADD COLUMN trigger_id BIGINT;
ALTER TABLE backups ADD COLUMN trigger_name TEXT;
ALTER TABLE backups ADD COLUMN lease_owner TEXT;
ALTER TABLE backups ADD COLUMN lease_until BIGINT;
ALTER TABLE backups ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE backups ADD COLUMN log_size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX backups_status ON backups(status, id);

ALTER TABLE restores ADD COLUMN error TEXT;
ALTER TABLE restores ADD COLUMN trigger_type TEXT;
ALTER TABLE restores ADD COLUMN trigger_id BIGINT;
ALTER TABLE restores ADD COLUMN trigger_name TEXT;
ALTER TABLE restores ADD COLUMN lease_owner TEXT;
ALTER TABLE restores ADD COLUMN lease_until BIGINT;
ALTER TABLE restores ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE restores ADD COLUMN log_size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX restores_status ON restores(status, id);

-- Every backup and restore with the database it works on and that
-- database's server (a restore's target: its own database_id, or the
-- backup's for restores made before 0011), and every job of any kind with
-- its server: what the runner's claims count (at most one running backup or
-- restore per database; --jobs-per-server running jobs of all kinds per
-- server) and the queues' bound counts (--queue-per-server waiting).
CREATE VIEW db_jobs AS
    SELECT 'backup' AS kind, b.id AS id, b.team_id AS team_id, b.status AS status,
           b.created_at AS created_at, b.database_id AS database_id, db.server_id AS server_id
    FROM backups b JOIN databases db ON db.id = b.database_id
    UNION ALL
    SELECT 'restore', r.id, r.team_id, r.status, r.created_at,
           COALESCE(r.database_id, b.database_id), db.server_id
    FROM restores r JOIN backups b ON b.id = r.backup_id
    JOIN databases db ON db.id = COALESCE(r.database_id, b.database_id);

CREATE VIEW server_jobs AS
    SELECT 'deployment' AS kind, d.id AS id, d.status AS status, a.server_id AS server_id
    FROM deployments d JOIN applications a ON a.id = d.application_id
    UNION ALL
    SELECT kind, id, status, server_id FROM db_jobs;
