-- 004_tasks_by_run: find a run's tasks.
--
-- A worker that claims a run reads the run's tasks with its journal and
-- inbox: an activity the run waits for with neither a task nor a result
-- ran in the memory of the run's previous owner (engines run the attempts
-- of their own runs without a task row) and must be dispatched again.
-- Task rows are now written only for attempts that leave their run's
-- worker (other queues, retries), so the index costs little.

CREATE INDEX tasks_run_id ON tasks (run_id);
