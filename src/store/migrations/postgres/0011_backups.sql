-- Backups that really dump (issue 11). A database says where its dump tool
-- connects (no password column: the server's own configuration
-- authenticates) and when it is backed up. backup_slots makes a scheduled
-- slot run once across every node: the node that inserts (database, slot)
-- first queues the backup; the others hit the unique key and do nothing.
ALTER TABLE databases ADD COLUMN host TEXT;
ALTER TABLE databases ADD COLUMN port BIGINT;
ALTER TABLE databases ADD COLUMN username TEXT;
ALTER TABLE databases ADD COLUMN backup_schedule TEXT;
ALTER TABLE databases ADD COLUMN backup_keep BIGINT NOT NULL DEFAULT 7;

-- An audit entry may name the object it concerns (backup 12, restore 3,
-- database 5): backups, downloads, restores and schedule changes are
-- audited (issue 11), and "which backup" is the point of such an entry.
ALTER TABLE audit_log ADD COLUMN object_kind TEXT;
ALTER TABLE audit_log ADD COLUMN object_id BIGINT;

-- A restore names the database it replaces: the backup's own, or another
-- of the same engine and team (null on restores made before this).
ALTER TABLE restores ADD COLUMN database_id BIGINT REFERENCES databases(id) ON DELETE CASCADE;

CREATE TABLE backup_slots (
    database_id  BIGINT NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
    slot_at      BIGINT NOT NULL,
    backup_id    BIGINT REFERENCES backups(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (database_id, slot_at)
);
CREATE INDEX backup_slots_backup ON backup_slots(backup_id);
