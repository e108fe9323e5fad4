-- A job's log chunks go with its row (issue 11; see the SQLite twin).
-- PostgreSQL's identity columns never give a deleted id again, so here the
-- chunks of a deleted job were only left behind, never read as another
-- job's log; the same triggers keep both backends' tables alike.
DELETE FROM job_log_chunks WHERE job_kind = 'deployment'
    AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.id = job_log_chunks.job_id);
DELETE FROM job_log_chunks WHERE job_kind = 'backup'
    AND NOT EXISTS (SELECT 1 FROM backups b WHERE b.id = job_log_chunks.job_id);
DELETE FROM job_log_chunks WHERE job_kind = 'restore'
    AND NOT EXISTS (SELECT 1 FROM restores r WHERE r.id = job_log_chunks.job_id);

-- TG_ARGV[0] is the job_kind of the table the trigger is on.
CREATE FUNCTION job_log_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_log_chunks WHERE job_kind = TG_ARGV[0] AND job_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER deployments_log_gone AFTER DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION job_log_gone('deployment');
CREATE TRIGGER backups_log_gone AFTER DELETE ON backups
    FOR EACH ROW EXECUTE FUNCTION job_log_gone('backup');
CREATE TRIGGER restores_log_gone AFTER DELETE ON restores
    FOR EACH ROW EXECUTE FUNCTION job_log_gone('restore');
