-- Token notes, renames and tidy lists (issue 13). note: optional free text
-- the owner keeps about a token (NULL: none). regenerated_at: when the
-- secret was last replaced (NULL: never). hidden_at: when a revoked or
-- expired token was removed from the lists; the row stays so its secrets
-- still answer "revoked" and the audit log keeps naming it.
ALTER TABLE tokens ADD COLUMN note TEXT;
ALTER TABLE tokens ADD COLUMN regenerated_at BIGINT;
ALTER TABLE tokens ADD COLUMN hidden_at BIGINT;
