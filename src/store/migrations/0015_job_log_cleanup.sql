-- A job's log chunks go with its row (issue 11). job_log_chunks names its
-- job by (job_kind, job_id) with no foreign key, and nothing deleted the
-- chunks of a deleted backup, restore or deployment. SQLite gives a new row
-- the id of the deleted newest one (INTEGER PRIMARY KEY without
-- AUTOINCREMENT), so the next job with that id read the old chunks as the
-- start of its own log: a failed dump showed "piora: stored 1628 bytes".
-- Triggers fire on every path a row goes: DELETE of the object, retention,
-- and the cascades (database -> backups -> restores, application ->
-- deployments). Number 0015 (0014 is PostgreSQL's change_acks).
DELETE FROM job_log_chunks WHERE job_kind = 'deployment'
    AND job_id NOT IN (SELECT id FROM deployments);
DELETE FROM job_log_chunks WHERE job_kind = 'backup'
    AND job_id NOT IN (SELECT id FROM backups);
DELETE FROM job_log_chunks WHERE job_kind = 'restore'
    AND job_id NOT IN (SELECT id FROM restores);

CREATE TRIGGER deployments_log_gone AFTER DELETE ON deployments BEGIN
    DELETE FROM job_log_chunks WHERE job_kind = 'deployment' AND job_id = OLD.id;
END;
CREATE TRIGGER backups_log_gone AFTER DELETE ON backups BEGIN
    DELETE FROM job_log_chunks WHERE job_kind = 'backup' AND job_id = OLD.id;
END;
CREATE TRIGGER restores_log_gone AFTER DELETE ON restores BEGIN
    DELETE FROM job_log_chunks WHERE job_kind = 'restore' AND job_id = OLD.id;
END;
