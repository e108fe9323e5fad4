-- Ids are never given twice (SQLite only: PostgreSQL's identity sequences
-- never reuse). SQLite gives a new row of an INTEGER PRIMARY KEY table the
-- id of a deleted newest row, so a token limited to "servers:7" (the
-- resources text of migration 0008) reached the next server made after
-- server 7 was deleted, a `piora token revoke 12` typed from an old note
-- revoked another token, and a job still running when its row went wrote
-- into the next job's log. AUTOINCREMENT would need every table rebuilt
-- with foreign keys off; instead each INSERT takes its id from id_marks
-- (SQ_NEXT_ID, sql_dialect.id_marks) and a trigger moves the mark past every
-- id a row gets. Number 0016 (0014 is PostgreSQL's change_acks).
CREATE TABLE id_marks (
    tbl  TEXT PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
);

INSERT INTO id_marks(tbl, last) SELECT 'teams', coalesce(max(id), 0) FROM teams;
INSERT INTO id_marks(tbl, last) SELECT 'users', coalesce(max(id), 0) FROM users;
INSERT INTO id_marks(tbl, last) SELECT 'tokens', coalesce(max(id), 0) FROM tokens;
INSERT INTO id_marks(tbl, last) SELECT 'servers', coalesce(max(id), 0) FROM servers;
INSERT INTO id_marks(tbl, last) SELECT 'applications', coalesce(max(id), 0) FROM applications;
INSERT INTO id_marks(tbl, last) SELECT 'databases', coalesce(max(id), 0) FROM databases;
INSERT INTO id_marks(tbl, last) SELECT 'deployments', coalesce(max(id), 0) FROM deployments;
INSERT INTO id_marks(tbl, last) SELECT 'backups', coalesce(max(id), 0) FROM backups;
INSERT INTO id_marks(tbl, last) SELECT 'restores', coalesce(max(id), 0) FROM restores;
INSERT INTO id_marks(tbl, last) SELECT 'publishers', coalesce(max(id), 0) FROM publishers;
INSERT INTO id_marks(tbl, last) SELECT 'invitations', coalesce(max(id), 0) FROM invitations;

CREATE TRIGGER teams_id_mark AFTER INSERT ON teams BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'teams' AND last < NEW.id;
END;
CREATE TRIGGER users_id_mark AFTER INSERT ON users BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'users' AND last < NEW.id;
END;
CREATE TRIGGER tokens_id_mark AFTER INSERT ON tokens BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'tokens' AND last < NEW.id;
END;
CREATE TRIGGER servers_id_mark AFTER INSERT ON servers BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'servers' AND last < NEW.id;
END;
CREATE TRIGGER applications_id_mark AFTER INSERT ON applications BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'applications' AND last < NEW.id;
END;
CREATE TRIGGER databases_id_mark AFTER INSERT ON databases BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'databases' AND last < NEW.id;
END;
CREATE TRIGGER deployments_id_mark AFTER INSERT ON deployments BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'deployments' AND last < NEW.id;
END;
CREATE TRIGGER backups_id_mark AFTER INSERT ON backups BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'backups' AND last < NEW.id;
END;
CREATE TRIGGER restores_id_mark AFTER INSERT ON restores BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'restores' AND last < NEW.id;
END;
CREATE TRIGGER publishers_id_mark AFTER INSERT ON publishers BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'publishers' AND last < NEW.id;
END;
CREATE TRIGGER invitations_id_mark AFTER INSERT ON invitations BEGIN
    UPDATE id_marks SET last = NEW.id WHERE tbl = 'invitations' AND last < NEW.id;
END;
