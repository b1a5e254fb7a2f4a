-- 002_claim_indexes: indexes that let claims read only candidates.
--
-- ClaimRuns reads two ranges: running runs whose wake_at has passed
-- (runs_due), and running runs with inbox items (found from inbox, which
-- holds only unconsumed items). ClaimTasks reads free tasks by due time
-- (tasks_free) and leased tasks by lease expiry (tasks_leased), so neither
-- scans the tasks in flight nor the runs asleep.

DROP INDEX runs_claim;
CREATE INDEX runs_due ON runs (wake_at) WHERE status = 'running';

DROP INDEX tasks_due;
DROP INDEX tasks_owner;
CREATE INDEX tasks_free ON tasks (due_at) WHERE owner = '';
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE owner <> '';
