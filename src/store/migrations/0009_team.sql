-- The whole team (issue 13): offboarding and roles. A disabled user keeps
-- their row (so audit entries and tokens still name them) but cannot sign
-- in; a removed user is also gone from the team's lists. Both times are
-- epoch seconds, NULL when not so.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN removed_at INTEGER;

-- Invitations: an admin invites an email with a role; the one-time link's
-- secret is kept only as its SHA-256 digest, as the setup secret is. An
-- invitation is pending while used_at and revoked_at are NULL and
-- expires_at is ahead.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    email       TEXT NOT NULL,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    digest      BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
    invited_by  INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX invitations_team ON invitations(team_id, id);

-- Sudo mode: when the session's user last gave their password (sign-in or
-- re-authentication); NULL means at the session's creation.
ALTER TABLE sessions ADD COLUMN auth_at INTEGER;

-- Two-factor sign-in (TOTP, RFC 6238). totp_secret is the base32 key once
-- enrolment is confirmed (never returned or logged after it); totp_pending
-- the key shown during enrolment; totp_last_step the last time step whose
-- code was accepted, so each code works once. Recovery codes are kept as
-- SHA-256 digests, each usable once. A team may require two-factor sign-in;
-- a session is "mfa_pending" between the password and the code, and then
-- authenticates nothing.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE recovery_codes (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest   BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
    used_at  INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
ALTER TABLE teams ADD COLUMN require_2fa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;
