-- The first schema: teams, users, tokens, and one table per resource
-- descriptor of core/model.c (column names and order follow the descriptor).
-- Times are INTEGER epoch seconds (clock_now()); NULL means "never" / unset.
-- Runs inside a transaction opened by the migration runner (store/sqlite.c).

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    team_id        INTEGER NOT NULL REFERENCES teams(id),
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX users_team ON users(team_id);

-- Only the SHA-256 digest of a token is stored, never the token.
CREATE TABLE tokens (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id         INTEGER NOT NULL REFERENCES teams(id),
    name            TEXT NOT NULL,
    digest          BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
    hint            TEXT NOT NULL,
    scopes          INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    last_used_addr  TEXT,
    expires_at      INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX tokens_user ON tokens(user_id, id);

-- Secrets replaced by a regeneration: still recognised, as revoked.
CREATE TABLE token_old_secrets (
    digest      BLOB PRIMARY KEY CHECK (length(digest) = 32),
    token_id    INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    revoked_at  INTEGER NOT NULL
);
CREATE INDEX token_old_secrets_token ON token_old_secrets(token_id);

CREATE TABLE servers (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    name        TEXT NOT NULL,
    ip_address  TEXT NOT NULL,
    provider    TEXT,
    region      TEXT,
    ssh_port    INTEGER NOT NULL DEFAULT 22,
    ssh_user    TEXT NOT NULL DEFAULT 'root',
    status      TEXT NOT NULL DEFAULT 'unknown',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX servers_team ON servers(team_id, id);

CREATE TABLE applications (
    id             INTEGER PRIMARY KEY,
    team_id        INTEGER NOT NULL REFERENCES teams(id),
    name           TEXT NOT NULL,
    server_id      INTEGER NOT NULL REFERENCES servers(id) ON DELETE RESTRICT,
    repository     TEXT NOT NULL,
    branch         TEXT NOT NULL DEFAULT 'main',
    domain         TEXT,
    deploy_script  TEXT,
    status         TEXT NOT NULL DEFAULT 'created',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX applications_team ON applications(team_id, id);
CREATE INDEX applications_server ON applications(server_id, id);

CREATE TABLE databases (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    name        TEXT NOT NULL,
    engine      TEXT NOT NULL,
    version     TEXT,
    server_id   INTEGER NOT NULL REFERENCES servers(id) ON DELETE RESTRICT,
    status      TEXT NOT NULL DEFAULT 'pending',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX databases_team ON databases(team_id, id);
CREATE INDEX databases_server ON databases(server_id, id);

CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY,
    team_id         INTEGER NOT NULL REFERENCES teams(id),
    application_id  INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'queued',
    started_at      INTEGER,
    finished_at     INTEGER,
    log             TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deployments_team ON deployments(team_id, id);
CREATE INDEX deployments_application ON deployments(application_id, id);

CREATE TABLE backups (
    id            INTEGER PRIMARY KEY,
    team_id       INTEGER NOT NULL REFERENCES teams(id),
    database_id   INTEGER NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'pending',
    size_bytes    INTEGER,
    sha256        TEXT,
    completed_at  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX backups_team ON backups(team_id, id);
CREATE INDEX backups_database ON backups(database_id, id);

CREATE TABLE restores (
    id           INTEGER PRIMARY KEY,
    team_id      INTEGER NOT NULL REFERENCES teams(id),
    backup_id    INTEGER NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'pending',
    started_at   INTEGER,
    finished_at  INTEGER,
    log          TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX restores_team ON restores(team_id, id);
CREATE INDEX restores_backup ON restores(backup_id, id);
