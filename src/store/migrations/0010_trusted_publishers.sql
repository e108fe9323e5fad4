-- Trusted publishing (issue 14, SPEC 12): the OIDC issuers and claim
-- conditions a team trusts to mint 15-minute tokens, and the JWT ids
-- already exchanged (kept until the JWT expires, so a replay is refused on
-- every node sharing the database).
CREATE TABLE publishers (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    claims      TEXT NOT NULL,  -- "key=value" lines, exact matches (core/publishers.c)
    ref_glob    TEXT,
    scopes      INTEGER NOT NULL,
    resources   TEXT,           -- SPEC 11's list form "servers:1,applications:4"; NULL: all
    created_at  INTEGER NOT NULL,
    UNIQUE (team_id, name)
);
CREATE INDEX publishers_issuer ON publishers(issuer);

CREATE TABLE oidc_jti (
    issuer      TEXT NOT NULL,
    jti         TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX oidc_jti_expiry ON oidc_jti(expires_at);

-- What an audit entry adds in words: a failed exchange's reason, the
-- repository, ref, commit and run of a successful one, a publisher's name.
ALTER TABLE audit_log ADD COLUMN detail TEXT;
