-- Identical requests of one token within one second (same method, path,
-- status, address and user agent) share one usage row with a count: a
-- client polling in a loop costs one row per second, not one per request,
-- so the writer keeps up and --usage-max-rows covers more history.
ALTER TABLE usage_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
