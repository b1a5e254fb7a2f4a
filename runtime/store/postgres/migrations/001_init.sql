-- 001_init: runs, their journals, due tasks and inboxes.
--
-- Runs in the store's schema (search_path is set to it). No foreign keys:
-- every write that links rows (events, tasks, inbox items to a run) is
-- fenced by the run's lease or made by the store itself, and a foreign key
-- check would cost a lookup and a row lock on runs for each insert.

CREATE TABLE runs (
    n             bigserial   NOT NULL, -- creation order, for ListRuns and CurrentRun
    run_id        text        NOT NULL PRIMARY KEY,
    workflow_id   text        NOT NULL,
    workflow      text        NOT NULL,
    queue         text        NOT NULL DEFAULT '',
    status        text        NOT NULL,
    input         bytea,
    result        bytea,
    error         bytea,
    meta          bytea,
    parent_run_id text        NOT NULL DEFAULT '',
    prev_run_id   text        NOT NULL DEFAULT '',
    next_run_id   text        NOT NULL DEFAULT '',
    journal_len   bigint      NOT NULL DEFAULT 0,
    wake_at       timestamptz,          -- NULL: only on inbox
    owner         text        NOT NULL DEFAULT '',
    lease_until   timestamptz,          -- NULL when owner = ''
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- At most one open run per workflow ID.
CREATE UNIQUE INDEX runs_open_workflow_id ON runs (workflow_id) WHERE status IN ('running', 'stuck');
CREATE UNIQUE INDEX runs_n ON runs (n);
CREATE INDEX runs_workflow_id ON runs (workflow_id, n);
-- Claiming: only running runs are candidates.
CREATE INDEX runs_claim ON runs (queue, wake_at) WHERE status = 'running';
CREATE INDEX runs_owner ON runs (owner) WHERE owner <> '';

CREATE TABLE events (
    run_id text        NOT NULL,
    seq    bigint      NOT NULL,
    kind   text        NOT NULL,
    data   bytea,
    at     timestamptz NOT NULL DEFAULT now(),
    -- The last line of defence of a gap-free journal: no position holds two
    -- entries, whatever the fencing above it.
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE tasks (
    id          text        NOT NULL PRIMARY KEY,
    run_id      text        NOT NULL,
    kind        text        NOT NULL,
    queue       text        NOT NULL DEFAULT '',
    due_at      timestamptz NOT NULL,
    attempt     integer     NOT NULL DEFAULT 0,
    data        bytea,
    details     bytea,
    owner       text        NOT NULL DEFAULT '',
    lease_until timestamptz,
    -- abandoned: the lease was cleared by ReleaseLeases, so the attempt died
    -- with its worker (ClaimTasks reports it like an expired lease).
    abandoned   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tasks_due ON tasks (due_at);
CREATE INDEX tasks_run_id ON tasks (run_id);
CREATE INDEX tasks_owner ON tasks (owner) WHERE owner <> '';

CREATE TABLE inbox (
    id     bigserial   NOT NULL PRIMARY KEY,
    run_id text        NOT NULL,
    kind   text        NOT NULL,
    name   text        NOT NULL DEFAULT '',
    data   bytea,
    at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX inbox_run_id ON inbox (run_id, id);

-- fence_run is the fencing step of Commit: it applies the run's new journal
-- length and update only if p_owner holds an unexpired lease (by the
-- database's clock) and the journal has exactly p_expect events, and raises
-- a distinct SQLSTATE otherwise, which aborts the rest of the commit:
--   DGNF1 no such run, DGLL1 lease lost, DGCF1 journal conflict.
CREATE FUNCTION fence_run(
    p_run_id text, p_owner text, p_expect bigint, p_len bigint,
    p_update boolean, p_status text, p_result bytea, p_error bytea,
    p_wake_at timestamptz, p_next_run_id text, p_closed boolean
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    UPDATE runs SET
        journal_len = p_len,
        updated_at  = now(),
        status      = CASE WHEN p_update THEN p_status      ELSE status      END,
        result      = CASE WHEN p_update THEN p_result      ELSE result      END,
        error       = CASE WHEN p_update THEN p_error       ELSE error       END,
        wake_at     = CASE WHEN p_update THEN p_wake_at     ELSE wake_at     END,
        next_run_id = CASE WHEN p_update THEN p_next_run_id ELSE next_run_id END,
        owner       = CASE WHEN p_closed THEN ''   ELSE owner       END,
        lease_until = CASE WHEN p_closed THEN NULL ELSE lease_until END
    WHERE run_id = p_run_id AND owner = p_owner AND p_owner <> ''
      AND lease_until > now() AND journal_len = p_expect;
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT owner, lease_until, journal_len INTO r FROM runs WHERE run_id = p_run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % not found', p_run_id USING ERRCODE = 'DGNF1';
    END IF;
    IF r.owner <> p_owner OR p_owner = '' OR r.lease_until IS NULL OR r.lease_until <= now() THEN
        RAISE EXCEPTION 'run %: lease not held by %', p_run_id, p_owner USING ERRCODE = 'DGLL1';
    END IF;
    RAISE EXCEPTION 'run %: journal has % events, commit expected %', p_run_id, r.journal_len, p_expect
        USING ERRCODE = 'DGCF1';
END
$$;
