package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// runColumns is the column list every statement that returns runs uses, in
// the order scanRun reads.
const runColumns = `run_id, workflow_id, workflow, queue, status, input, result, error, meta,
	parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner, lease_until, created_at, updated_at`

const taskColumns = `id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until, created_at, abandoned`

// openStatuses is the SQL list of RunStatus values for which Open is true.
const openStatuses = `('running', 'stuck')`

// stmts are the writer's statements, prepared once on its connection.
type stmts struct {
	begin      *wstmt
	commit     *wstmt
	rollback   *wstmt
	savepoint  *wstmt
	rollbackTo *wstmt
	release    *wstmt
	// dataVersion changes when another connection committed (notify.go).
	dataVersion *wstmt
	// runQueue and taskQueue name the queue of work a call announces.
	runQueue  *wstmt
	taskQueue *wstmt

	insertRun   *wstmt
	insertEvent *wstmt
	// insertEvents2 appends two events in one statement: a step usually
	// journals an inbound event and one command.
	insertEvents2 *wstmt
	insertTask    *wstmt

	// commitRun checks fencing and the journal length and bumps the length
	// in one statement; no row changed means one of them failed.
	commitRun       *wstmt
	commitRunUpdate *wstmt
	// commitRunWake is commitRunUpdate for the common case of a running
	// run that stays running: it names no column of runs_open_workflow or
	// runs_owner, so SQLite leaves those indexes alone.
	commitRunWake *wstmt
	runLease      *wstmt

	consumeInbox    *wstmt
	deleteTask      *wstmt
	deliverWorkflow *wstmt
	deliverRun      *wstmt

	claimRuns      *wstmt
	releaseRun     *wstmt
	renewRun       *wstmt
	renewTask      *wstmt
	releaseRunsOf  *wstmt
	releaseRunsAll *wstmt
	// Released task leases keep their owner, so that the next claim
	// reports the attempt as abandoned: it died with its worker.
	releaseTasksOf  *wstmt
	releaseTasksAll *wstmt
	setRunStatus    *wstmt

	claimTasks   *wstmt
	updateTask   *wstmt
	countTask    *wstmt
	expireTask   *wstmt
	getTask      *wstmt
	completeTask *wstmt
}

// readStmts are the readers' statements, prepared on the reader pool.
type readStmts struct {
	getRun             *sql.Stmt
	currentRun         *sql.Stmt
	listRuns           *sql.Stmt
	listRunsOfWorkflow *sql.Stmt
	loadJournal        *sql.Stmt
	listInbox          *sql.Stmt
	listTasks          *sql.Stmt
	settledRuns        *sql.Stmt
}

// defs pairs each statement of stmts with its SQL.
func (s *stmts) defs() []wdef {
	return []wdef{
		{&s.begin, `BEGIN IMMEDIATE`},
		{&s.commit, `COMMIT`},
		{&s.rollback, `ROLLBACK`},
		{&s.savepoint, `SAVEPOINT call`},
		{&s.rollbackTo, `ROLLBACK TO call`},
		{&s.release, `RELEASE call`},
		{&s.dataVersion, `PRAGMA data_version`},
		{&s.runQueue, `SELECT queue FROM runs WHERE run_id = ?1`},
		{&s.taskQueue, `SELECT queue FROM tasks WHERE id = ?1`},
		{&s.insertRun, `INSERT INTO runs (run_id, workflow_id, workflow, queue, status, input, result, error, meta, parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner, lease_until, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)`},
		{&s.insertEvent, `INSERT INTO events (run, seq, kind, data, at) VALUES (?1, ?2, ?3, ?4, ?5)`},
		{&s.insertEvents2, `INSERT INTO events (run, seq, kind, data, at) VALUES (?1, ?2, ?3, ?4, ?5), (?1, ?6, ?7, ?8, ?9)`},
		{&s.insertTask, `INSERT INTO tasks (id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?11, ?9)`},
		{&s.commitRun, `UPDATE runs SET journal_len = ?1, updated_at = ?2 WHERE run_id = ?3 AND owner = ?4 AND lease_until > ?2 AND journal_len = ?5 RETURNING id`},
		{&s.commitRunUpdate, `UPDATE runs SET journal_len = ?1, updated_at = ?2, status = ?6, result = ?7, error = ?8, wake_at = ?9, next_run_id = ?10, owner = CASE WHEN ?11 THEN '' ELSE owner END, lease_until = CASE WHEN ?11 THEN 0 ELSE lease_until END WHERE run_id = ?3 AND owner = ?4 AND lease_until > ?2 AND journal_len = ?5 RETURNING id`},
		{&s.commitRunWake, `UPDATE runs SET journal_len = ?1, updated_at = ?2, wake_at = ?6 WHERE run_id = ?3 AND owner = ?4 AND lease_until > ?2 AND journal_len = ?5 AND status = 'running' RETURNING id`},
		{&s.runLease, `SELECT owner, lease_until, journal_len FROM runs WHERE run_id = ?1`},
		{&s.consumeInbox, `DELETE FROM inbox WHERE id = ?1 AND run_id = ?2`},
		{&s.deleteTask, `DELETE FROM tasks WHERE id = ?1`},
		{&s.deliverWorkflow, `INSERT INTO inbox (run_id, kind, name, data, at) SELECT run_id, ?2, ?3, ?4, ?5 FROM runs WHERE workflow_id = ?1 AND status IN ` + openStatuses + ` RETURNING id, run_id`},
		{&s.deliverRun, `INSERT INTO inbox (run_id, kind, name, data, at) SELECT run_id, ?2, ?3, ?4, ?5 FROM runs WHERE run_id = ?1 AND status IN ` + openStatuses + ` RETURNING id, run_id`},
		{&s.claimRuns, `UPDATE runs SET owner = ?1, lease_until = ?2 WHERE id IN (SELECT id FROM runs WHERE status = 'running' AND wake_at > 0 AND wake_at <= ?3 AND lease_until <= ?3 AND (?4 IS NULL OR queue IN (SELECT value FROM json_each(?4))) UNION SELECT r.id FROM inbox i JOIN runs r ON r.run_id = i.run_id WHERE r.status = 'running' AND (r.lease_until <= ?3 OR (r.owner = ?1 AND ?1 <> '')) AND (?4 IS NULL OR r.queue IN (SELECT value FROM json_each(?4))) LIMIT ?5) RETURNING ` + runColumns},
		{&s.releaseRun, `UPDATE runs SET owner = '', lease_until = 0, wake_at = ?3 WHERE run_id = ?1 AND owner = ?2 AND lease_until > ?4`},
		{&s.renewRun, `UPDATE runs SET lease_until = ?3 WHERE run_id = ?1 AND owner = ?2 AND lease_until > ?4`},
		{&s.renewTask, `UPDATE tasks SET lease_until = ?3 WHERE id = ?1 AND owner = ?2 AND lease_until > ?4`},
		{&s.releaseRunsOf, `UPDATE runs SET owner = '', lease_until = 0 WHERE status IN ` + openStatuses + ` AND owner = ?1 AND owner <> ''`},
		{&s.releaseRunsAll, `UPDATE runs SET owner = '', lease_until = 0 WHERE status IN ` + openStatuses + ` AND owner <> ''`},
		{&s.releaseTasksOf, `UPDATE tasks SET lease_until = 0 WHERE owner = ?1 AND owner <> '' AND lease_until > 0`},
		{&s.releaseTasksAll, `UPDATE tasks SET lease_until = 0 WHERE owner <> '' AND lease_until > 0`},
		{&s.setRunStatus, `UPDATE runs SET status = ?2, error = ?3, wake_at = ?4, owner = '', lease_until = 0, updated_at = ?5 WHERE run_id = ?1 AND status IN ` + openStatuses + ``},
		{&s.claimTasks, `UPDATE tasks SET owner = ?1, lease_until = ?2, abandoned = (owner <> '') WHERE id IN (SELECT id FROM tasks WHERE due_at <= ?3 AND lease_until <= ?3 AND (?4 IS NULL OR kind IN (SELECT value FROM json_each(?4))) AND (?5 IS NULL OR queue IN (SELECT value FROM json_each(?5))) ORDER BY due_at LIMIT ?6) RETURNING ` + taskColumns},
		{&s.updateTask, `UPDATE tasks SET details = coalesce(?4, details), lease_until = CASE WHEN ?5 THEN 0 WHEN ?6 > 0 THEN ?3 + ?6 ELSE lease_until END, owner = CASE WHEN ?5 THEN '' ELSE owner END, due_at = CASE WHEN ?5 THEN ?7 ELSE due_at END, attempt = CASE WHEN ?5 THEN ?8 ELSE attempt END WHERE id = ?1 AND owner = ?2 AND lease_until > ?3`},
		{&s.countTask, `SELECT count(*) FROM tasks WHERE id = ?1`},
		{&s.expireTask, `DELETE FROM tasks WHERE id = ?1 AND owner = '' AND due_at <= ?2 RETURNING run_id`},
		{&s.getTask, `SELECT ` + taskColumns + ` FROM tasks WHERE id = ?1`},
		{&s.completeTask, `DELETE FROM tasks WHERE id = ?1 AND owner = ?2 AND lease_until > ?3 RETURNING run_id`},
	}
}

// defs pairs each statement of readStmts with its SQL.
func (s *readStmts) defs() []stmtDef {
	return []stmtDef{
		{&s.getRun, `SELECT ` + runColumns + ` FROM runs WHERE run_id = ?1`},
		{&s.currentRun, `SELECT ` + runColumns + ` FROM runs WHERE workflow_id = ?1 ORDER BY id DESC LIMIT 1`},
		{&s.listRuns, `SELECT ` + runColumns + ` FROM runs WHERE (?1 IS NULL OR status IN (SELECT value FROM json_each(?1))) ORDER BY id LIMIT ?2`},
		{&s.listRunsOfWorkflow, `SELECT ` + runColumns + ` FROM runs WHERE workflow_id = ?3 AND (?1 IS NULL OR status IN (SELECT value FROM json_each(?1))) ORDER BY id LIMIT ?2`},
		{&s.loadJournal, `SELECT seq, kind, data, at FROM events WHERE run = (SELECT id FROM runs WHERE run_id = ?1) AND seq > ?2 ORDER BY seq`},
		{&s.listInbox, `SELECT id, run_id, kind, name, data, at FROM inbox WHERE run_id = ?1 ORDER BY id`},
		{&s.listTasks, `SELECT ` + taskColumns + ` FROM tasks WHERE run_id = ?1 ORDER BY id`},
		{&s.settledRuns, `SELECT ` + runColumns + ` FROM runs WHERE run_id IN (SELECT value FROM json_each(?1)) AND status <> 'running'`},
	}
}

// wdef pairs a writer statement with its SQL.
type wdef struct {
	stmt  **wstmt
	query string
}

type stmtDef struct {
	stmt  **sql.Stmt
	query string
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// prepare prepares every statement of defs on p.
func prepare(ctx context.Context, p preparer, defs []stmtDef) error {
	for _, d := range defs {
		st, err := p.PrepareContext(ctx, d.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", d.query, err)
		}
		*d.stmt = st
	}
	return nil
}

// closeStmts closes every prepared statement of defs.
func closeStmts(defs []stmtDef) error {
	var errs []error
	for _, d := range defs {
		if *d.stmt != nil {
			errs = append(errs, (*d.stmt).Close())
		}
	}
	return errors.Join(errs...)
}
