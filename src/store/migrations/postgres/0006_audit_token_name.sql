-- Audit entries name the token they concern (issue 7): the name at the time
-- of the event is kept with the entry, since an entry outlives what it names.
-- Entries written before this carry the token's current name where the
-- token still exists (a token's name never changes, so it is the same one).
ALTER TABLE audit_log ADD COLUMN token_name TEXT;
UPDATE audit_log SET token_name = (SELECT name FROM tokens WHERE tokens.id = audit_log.token_id)
 WHERE token_id IS NOT NULL;
