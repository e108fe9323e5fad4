-- Tokens limited to chosen resources and client addresses (SPEC 11,
-- issue 12). Both are fixed at creation and kept as canonical text
-- (auth/grant.h): resources "servers:1,applications:4" ('' grants nothing,
-- NULL every object of the team), allowed_ips "203.0.113.0/24,2001:db8::/48"
-- (NULL: no address rule). Existing tokens keep both NULL: unlimited.
ALTER TABLE tokens ADD COLUMN resources TEXT;
ALTER TABLE tokens ADD COLUMN allowed_ips TEXT;
