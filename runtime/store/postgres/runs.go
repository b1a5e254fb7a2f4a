package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/durablego/toolkit/runtime/store"
)

// CreateRun inserts the run, its first events and tasks atomically.
// Concurrent calls are applied together by one statement (see group.go).
func (s *Store) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	if p.Run.Status != "" && !validStatus(p.Run.Status) {
		return fmt.Errorf("postgres: create run %s: invalid status %q", p.Run.RunID, p.Run.Status)
	}
	return s.creations.do(ctx, p)
}

// sqlCreateRuns creates a group of runs with their events and tasks. A run
// whose RunID exists, or whose WorkflowID has an open run, is skipped (ON
// CONFLICT DO NOTHING covers the partial unique index too) along with its
// events and tasks; the positions of the created runs are returned.
const sqlCreateRuns = `WITH c AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bytea[],
		$8::bytea[], $9::bytea[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::timestamptz[],
		$15::text[], $16::bigint[])
		WITH ORDINALITY AS c(run_id, workflow_id, workflow, queue, status, input, result, error, meta,
			parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner, lease, idx)
), r AS (
	INSERT INTO runs (run_id, workflow_id, workflow, queue, status, input, result, error, meta,
		parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner, lease_until)
	SELECT run_id, workflow_id, workflow, queue, status, input, result, error, meta,
		parent_run_id, prev_run_id, next_run_id, journal_len, wake_at, owner,
		CASE WHEN owner = '' THEN NULL ELSE now() + lease * interval '1 microsecond' END
	FROM c ORDER BY idx
	ON CONFLICT DO NOTHING
	RETURNING run_id
), ok AS (
	SELECT c.idx, c.run_id, c.queue, c.status, c.owner FROM c JOIN r ON r.run_id = c.run_id
), ev AS (
	INSERT INTO events (run_id, seq, kind, data, at)
	SELECT ok.run_id, e.seq, e.kind, e.data, coalesce(e.at, now())
	FROM unnest($17::bigint[], $18::bigint[], $19::text[], $20::bytea[], $21::timestamptz[])
		AS e(idx, seq, kind, data, at)
	JOIN ok ON ok.idx = e.idx
), ct AS (
	INSERT INTO tasks (id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)
	SELECT t.id, t.run_id, t.kind, t.queue, coalesce(t.due_at, now()), t.attempt, t.data, t.details, t.owner,
		CASE WHEN t.owner = '' THEN NULL
			ELSE coalesce(t.lease_until, now() + $33::bigint * interval '1 microsecond') END
	FROM unnest($22::bigint[], $23::text[], $24::text[], $25::text[], $26::text[], $27::timestamptz[],
		$28::int[], $29::bytea[], $30::bytea[], $31::text[], $32::timestamptz[])
		AS t(idx, id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)
	JOIN ok ON ok.idx = t.idx
	RETURNING queue, owner
)
SELECT array(SELECT idx FROM ok),
	(SELECT count(pg_notify($34, p)) FROM (
		SELECT 'run:' || queue AS p FROM ok WHERE status = 'running' AND owner = ''
		UNION SELECT 'task:' || queue FROM ct WHERE owner = '') n
	 WHERE $35)`

// Array parameters of sqlCreateRuns, by position ($n = position + 1); the
// tasks to create follow from crTasks (taskParams).
const (
	crRunID = iota
	crWorkflowID
	crWorkflow
	crQueue
	crStatus
	crInput
	crResult
	crError
	crMeta
	crParent
	crPrev
	crNext
	crLen
	crWake
	crOwner
	crLease
	crEvIdx
	crEvSeq
	crEvKind
	crEvData
	crEvAt
	crTasks
)

var createRunsOIDs = append([]uint32{
	crRunID: oidText, crWorkflowID: oidText, crWorkflow: oidText, crQueue: oidText, crStatus: oidText,
	crInput: oidBytea, crResult: oidBytea, crError: oidBytea, crMeta: oidBytea,
	crParent: oidText, crPrev: oidText, crNext: oidText, crLen: oidInt8, crWake: oidTimestamptz,
	crOwner: oidText, crLease: oidInt8,
	crEvIdx: oidInt8, crEvSeq: oidInt8, crEvKind: oidText, crEvData: oidBytea, crEvAt: oidTimestamptz,
}, taskParamOIDs[:]...)

type createReq = groupReq[*store.CreateRunParams]

// createRunGroup applies a group of CreateRun calls in one statement.
func (s *Store) createRunGroup(ctx context.Context, group []*createReq) {
	if len(group) > 1 && hasDuplicateIDs(group) {
		// The statement tells created runs apart by RunID only.
		for _, r := range group {
			s.createRunGroup(ctx, []*createReq{r})
		}
		return
	}
	k := len(group)
	args := s.groupParams(createRunsOIDs)
	defer s.params.Put(args)
	a := args.arrays
	for i, req := range group {
		p, idx := req.p, int64(i+1)
		r := p.Run
		status := r.Status
		if status == "" {
			status = store.StatusRunning
		}
		a[crRunID].text(r.RunID)
		a[crWorkflowID].text(r.WorkflowID)
		a[crWorkflow].text(r.Workflow)
		a[crQueue].text(r.Queue)
		a[crStatus].text(string(status))
		a[crInput].bytes(r.Input)
		a[crResult].bytes(r.Result)
		a[crError].bytes(r.Error)
		a[crMeta].bytes(r.Meta)
		a[crParent].text(r.ParentRunID)
		a[crPrev].text(r.PrevRunID)
		a[crNext].text(r.NextRunID)
		a[crLen].int8(int64(len(p.Events)))
		a[crWake].timestamptz(r.WakeAt)
		a[crOwner].text(p.Owner)
		a[crLease].int8(micros(p.Lease))
		for j, e := range p.Events {
			a[crEvIdx].int8(idx)
			a[crEvSeq].int8(int64(j + 1))
			a[crEvKind].text(e.Kind)
			a[crEvData].bytes(e.Data)
			a[crEvAt].timestamptz(e.At)
		}
		taskParams(a[crTasks:], idx, r.RunID, p.Tasks)
	}
	var created []int64
	row, err := s.execGroup(ctx, "durable_create_runs", sqlCreateRuns, args, 2)
	if err == nil {
		created, err = decodeInt8Array(row[0])
	}
	if err != nil {
		if k == 1 || failAllIfUnavailable(group, "create run", err) {
			group[0].err = interpretError("create run", err)
			return
		}
		for _, r := range group {
			s.createRunGroup(ctx, []*createReq{r})
		}
		return
	}
	ok := make([]bool, k)
	for _, idx := range created {
		ok[idx-1] = true
	}
	for i, r := range group {
		if !ok[i] {
			r.err = fmt.Errorf("postgres: create run %s (workflow ID %s): %w", r.p.Run.RunID, r.p.Run.WorkflowID,
				store.ErrAlreadyExists)
		}
	}
}

// hasDuplicateIDs reports whether two runs of the group share a RunID or a
// WorkflowID.
func hasDuplicateIDs(group []*createReq) bool {
	seen := make(map[string]bool, 2*len(group))
	for _, r := range group {
		run, wf := "r:"+r.p.Run.RunID, "w:"+r.p.Run.WorkflowID
		if seen[run] || seen[wf] {
			return true
		}
		seen[run], seen[wf] = true, true
	}
	return false
}

// GetRun returns the run with that RunID, or store.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, runID string) (*store.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE run_id = $1`, runID))
	return r, interpretError("get run", err)
}

// CurrentRun returns the newest run of a workflow ID, or store.ErrNotFound.
func (s *Store) CurrentRun(ctx context.Context, workflowID string) (*store.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx,
		`SELECT `+runColumns+` FROM runs WHERE workflow_id = $1 ORDER BY n DESC LIMIT 1`, workflowID))
	return r, interpretError("current run", err)
}

// SettledRuns returns the runs with one of these IDs that are no longer
// running (closed or stuck), in one round trip; unknown and running runs
// are left out. A client-only durable engine uses it to wait for the runs
// of many Get calls at once instead of polling each.
func (s *Store) SettledRuns(ctx context.Context, runIDs []string) ([]*store.Run, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM runs WHERE run_id = ANY($1) AND status <> 'running'`, runIDs)
	if err != nil {
		return nil, interpretError("settled runs", err)
	}
	runs, err := scanRuns(rows)
	return runs, interpretError("settled runs", err)
}

// ClaimRuns leases running runs that want attention, skipping rows other
// claimers hold locked, so concurrent claimers never wait for each other
// nor claim the same run. Lease expiry uses the database's clock. Runs
// whose WakeAt passed come first, then runs with inbox items, including
// those p.Owner already leases (re-claimed: the lease is extended), so that
// an item delivered by another process reaches the worker that has the run
// loaded.
func (s *Store) ClaimRuns(ctx context.Context, p *store.ClaimRunsParams) ([]*store.Run, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	sql, args := claimRunsSQL(p)
	rows, err := s.pool.Query(ctx, sql+` RETURNING `+runColumnsQ, args...)
	if err != nil {
		return nil, interpretError("claim runs", err)
	}
	runs, err := scanRuns(rows)
	return runs, interpretError("claim runs", err)
}

// claimRunsSQL is the UPDATE that claims runs for p, without RETURNING.
func claimRunsSQL(p *store.ClaimRunsParams) (string, []any) {
	args := []any{p.Limit, p.Owner, micros(p.Lease)}
	filter := ""
	if len(p.Queues) > 0 {
		filter = " AND r.queue = ANY($4)"
		args = append(args, p.Queues)
	}
	return `WITH due AS (
		SELECT r.run_id FROM runs r
		WHERE r.status = 'running' AND r.wake_at <= now()` + filter + `
		  AND (r.lease_until IS NULL OR r.lease_until <= now())
		ORDER BY r.wake_at
		LIMIT $1
		FOR UPDATE SKIP LOCKED
	), mail AS (
		SELECT r.run_id FROM runs r
		WHERE r.run_id = ANY(ARRAY(SELECT DISTINCT run_id FROM inbox)) AND r.status = 'running'` + filter + `
		  AND (r.lease_until IS NULL OR r.lease_until <= now() OR (r.owner = $2 AND $2 <> ''))
		LIMIT $1
		FOR UPDATE SKIP LOCKED
	), c AS (
		SELECT run_id FROM (SELECT run_id FROM due UNION SELECT run_id FROM mail) u LIMIT $1
	)
	UPDATE runs r SET owner = $2, lease_until = now() + $3::bigint * interval '1 microsecond', updated_at = now()
	FROM c WHERE r.run_id = c.run_id`, args
}

// ClaimAndLoadRuns claims like ClaimRuns and reads each claimed run's
// journal, inbox and task IDs in the same statement (store.RunLoader). The reads see
// the statement's snapshot: a commit that raced the claim may be missing
// from the journal, which then is shorter than the run's JournalLen.
func (s *Store) ClaimAndLoadRuns(ctx context.Context, p *store.ClaimRunsParams) ([]*store.LoadedRun, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	sql, args := claimRunsSQL(p)
	rows, err := s.pool.Query(ctx, `WITH u AS (`+sql+` RETURNING `+runColumnsQ+`)
	SELECT u.*, ev.seqs, ev.kinds, ev.datas, ev.ats, ib.ids, ib.kinds, ib.names, ib.datas, ib.ats, tk.ids
	FROM u
	CROSS JOIN LATERAL (
		SELECT array_agg(e.seq ORDER BY e.seq) AS seqs, array_agg(e.kind ORDER BY e.seq) AS kinds,
			array_agg(e.data ORDER BY e.seq) AS datas, array_agg(e.at ORDER BY e.seq) AS ats
		FROM events e WHERE e.run_id = u.run_id) ev
	CROSS JOIN LATERAL (
		SELECT array_agg(i.id ORDER BY i.id) AS ids, array_agg(i.kind ORDER BY i.id) AS kinds,
			array_agg(i.name ORDER BY i.id) AS names, array_agg(i.data ORDER BY i.id) AS datas,
			array_agg(i.at ORDER BY i.id) AS ats
		FROM inbox i WHERE i.run_id = u.run_id) ib
	CROSS JOIN LATERAL (
		SELECT array_agg(t.id ORDER BY t.id) AS ids FROM tasks t WHERE t.run_id = u.run_id) tk`, args...)
	if err != nil {
		return nil, interpretError("claim runs", err)
	}
	defer rows.Close()
	var loaded []*store.LoadedRun
	for rows.Next() {
		var (
			seqs, ids            []int64
			kinds, ikinds, names []string
			datas, idatas        [][]byte
			ats, iats            []time.Time
			taskIDs              []string
		)
		r, err := scanRun(rows, &seqs, &kinds, &datas, &ats, &ids, &ikinds, &names, &idatas, &iats, &taskIDs)
		if err != nil {
			return nil, interpretError("claim runs", err)
		}
		l := &store.LoadedRun{Run: r, Journal: make([]store.Event, len(seqs)), Inbox: make([]store.InboxItem, len(ids)), TaskIDs: taskIDs}
		for i := range seqs {
			l.Journal[i] = store.Event{Seq: seqs[i], Kind: kinds[i], Data: datas[i], At: ats[i]}
		}
		for i := range ids {
			l.Inbox[i] = store.InboxItem{ID: ids[i], RunID: r.RunID, Kind: ikinds[i], Name: names[i], Data: idatas[i], At: iats[i]}
		}
		loaded = append(loaded, l)
	}
	return loaded, interpretError("claim runs", rows.Err())
}

// ReleaseRun gives up p.Owner's lease on a run and sets its WakeAt.
func (s *Store) ReleaseRun(ctx context.Context, p *store.ReleaseRunParams) error {
	var released, exists bool
	err := s.pool.QueryRow(ctx, `WITH u AS (
		UPDATE runs SET owner = '', lease_until = NULL, wake_at = $3, updated_at = now()
		WHERE run_id = $1 AND owner = $2 AND $2 <> ''
		RETURNING run_id, queue, status,
			wake_at <= now() OR EXISTS (SELECT 1 FROM inbox i WHERE i.run_id = runs.run_id) AS due
	)
	SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM runs WHERE run_id = $1),
		(SELECT count(pg_notify($4, 'run:' || queue)) FROM u WHERE $5 AND status = 'running' AND due)`,
		p.RunID, p.Owner, nullTime(p.WakeAt), s.channel, s.cfg.notify).Scan(&released, &exists, nil)
	if err != nil {
		return interpretError("release run", err)
	}
	return leaseResult("release run", released, exists)
}

// leaseResult is the error of a write guarded by a lease: nil when done,
// store.ErrNotFound when the row does not exist, else store.ErrLeaseLost.
func leaseResult(op string, done, exists bool) error {
	switch {
	case done:
		return nil
	case !exists:
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	default:
		return fmt.Errorf("postgres: %s: %w", op, store.ErrLeaseLost)
	}
}

// RenewLeases extends the leases p.Owner holds (unexpired, by the
// database's clock) and reports the others as lost.
func (s *Store) RenewLeases(ctx context.Context, p *store.RenewLeasesParams) (*store.RenewLeasesResult, error) {
	res := &store.RenewLeasesResult{}
	if len(p.RunIDs) == 0 && len(p.TaskIDs) == 0 {
		return res, nil
	}
	runIDs, taskIDs := p.RunIDs, p.TaskIDs
	if runIDs == nil {
		runIDs = []string{}
	}
	if taskIDs == nil {
		taskIDs = []string{}
	}
	var renewedRuns, renewedTasks []string
	err := s.pool.QueryRow(ctx, `WITH r AS (
		UPDATE runs SET lease_until = now() + $4::bigint * interval '1 microsecond'
		WHERE run_id = ANY($2) AND owner = $1 AND $1 <> '' AND lease_until > now()
		RETURNING run_id
	), t AS (
		UPDATE tasks SET lease_until = now() + $4::bigint * interval '1 microsecond'
		WHERE id = ANY($3) AND owner = $1 AND $1 <> '' AND lease_until > now()
		RETURNING id
	)
	SELECT array(SELECT run_id FROM r), array(SELECT id FROM t)`,
		p.Owner, runIDs, taskIDs, micros(p.Lease)).Scan(&renewedRuns, &renewedTasks)
	if err != nil {
		return nil, interpretError("renew leases", err)
	}
	for _, id := range p.RunIDs {
		if !slices.Contains(renewedRuns, id) {
			res.LostRuns = append(res.LostRuns, id)
		}
	}
	for _, id := range p.TaskIDs {
		if !slices.Contains(renewedTasks, id) {
			res.LostTasks = append(res.LostTasks, id)
		}
	}
	return res, nil
}

// ReleaseLeases clears the leases owner holds on runs and tasks, or all
// leases when owner is "". Released tasks are reported Abandoned by the
// next ClaimTasks: their attempt died with the owner. Only open runs hold
// leases (closing clears it), and no index covers owner (see migration
// 003): the open runs are where to look.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	_, err := s.pool.Exec(ctx, `WITH r AS (
		UPDATE runs SET owner = '', lease_until = NULL, updated_at = now()
		WHERE status IN ('running', 'stuck') AND owner <> '' AND ($1 = '' OR owner = $1)
		RETURNING queue
	), t AS (
		UPDATE tasks SET owner = '', lease_until = NULL, abandoned = true
		WHERE owner <> '' AND ($1 = '' OR owner = $1)
		RETURNING queue
	)
	SELECT count(pg_notify($2, p)) FROM (
		SELECT 'run:' || queue AS p FROM r UNION SELECT 'task:' || queue FROM t
	) n WHERE $3`, owner, s.channel, s.cfg.notify)
	return interpretError("release leases", err)
}

// SetRunStatus changes an open run's status without an owner and clears
// its lease. It returns store.ErrNotFound when no open run has that ID.
func (s *Store) SetRunStatus(ctx context.Context, p *store.SetRunStatusParams) error {
	if !validStatus(p.Status) {
		return fmt.Errorf("postgres: set run status of %s: invalid status %q", p.RunID, p.Status)
	}
	var found bool
	err := s.pool.QueryRow(ctx, `WITH u AS (
		UPDATE runs SET status = $2, error = $3, wake_at = $4, owner = '', lease_until = NULL, updated_at = now()
		WHERE run_id = $1 AND status IN ('running', 'stuck')
		RETURNING queue, status
	)
	SELECT EXISTS (SELECT 1 FROM u),
		(SELECT count(pg_notify($5, 'run:' || queue)) FROM u WHERE $6 AND status = 'running')`,
		p.RunID, string(p.Status), p.Error, nullTime(p.WakeAt), s.channel, s.cfg.notify).Scan(&found, nil)
	if err != nil {
		return interpretError("set run status", err)
	}
	if !found {
		return interpretError("set run status", pgx.ErrNoRows)
	}
	return nil
}
