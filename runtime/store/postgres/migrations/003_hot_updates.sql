-- 003_hot_updates: let most updates of a run stay on its heap page.
--
-- A run row is updated four to six times in its life (claim, each commit,
-- lease renewals, close). An update that changes no indexed column and
-- finds room on its page is a HOT update: no index gets a new entry, and
-- page pruning reclaims the old version without VACUUM. Without room (the
-- default fillfactor packs pages full) or with an indexed column changed,
-- every index of runs gets a new entry, and dead entries pile up in front
-- of the claim queries until VACUUM. So:
--   * runs pages are filled to half, leaving room for updated versions;
--   * no index covers owner or lease_until, which every claim and renewal
--     changes (ReleaseLeases finds an owner's runs among the open runs);
--   * tasks_run_id goes: no query reads tasks by run.
-- The queue-like tables are vacuumed and analyzed after a small fraction
-- of their rows changed, not the default fifth.

ALTER TABLE runs SET (fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE inbox SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

DROP INDEX runs_owner;
DROP INDEX tasks_run_id;
