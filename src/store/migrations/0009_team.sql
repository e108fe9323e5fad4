-- The whole team (issue 13): offboarding and roles. A disabled user keeps
-- their row (so audit entries and tokens still name them) but cannot sign
-- in; a removed user is also gone from the team's lists. Both times are
-- epoch seconds, NULL when not so.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN removed_at INTEGER;
