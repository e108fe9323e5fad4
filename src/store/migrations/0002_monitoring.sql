-- Monitoring (SPEC 6): the audit log and the per-token usage log.
-- Neither table has foreign keys: an audit entry outlives what it names, and
-- usage rows are written in batches by a background writer that must not
-- fail a whole batch over one token. Times are epoch seconds.

CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY,
    time             INTEGER NOT NULL,
    action           TEXT NOT NULL,
    via              TEXT NOT NULL,
    team_id          INTEGER,
    actor_user_id    INTEGER,
    token_id         INTEGER,
    subject_user_id  INTEGER,
    email            TEXT,
    addr             TEXT
);
CREATE INDEX audit_log_team ON audit_log(team_id, id);

CREATE TABLE usage_log (
    id          INTEGER PRIMARY KEY,
    token_id    INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    addr        TEXT NOT NULL,
    user_agent  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_log_token_time ON usage_log(token_id, time);
-- Retention by age deletes by time alone.
CREATE INDEX usage_log_time ON usage_log(time);
