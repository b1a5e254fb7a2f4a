package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// Group commit. PostgreSQL pays per transaction (a round trip, executor
// start-up per statement, a commit record and, with synchronous_commit on,
// a WAL flush), so Commit calls that arrive while others are in flight are
// applied together by one statement (sqlCommitGroup) in one transaction.
// At low load a commit goes out alone at once; under load, groups form on
// their own while the previous statements run, and no commit ever waits
// for a timer.
//
// Each commit of a group is fenced on its own: the statement applies the
// events, inbox consumption and task changes only of the commits whose
// fence held, and returns their positions; the others are classified by a
// second query (lease lost, conflict, not found). If the statement fails
// as a whole (a duplicate task ID, an events primary key violation), every
// commit of the group is retried alone, so each gets its own answer.
//
// Commits that create runs or deliver to other runs take the pipelined
// batch path (Store.commitBatch) instead: a delivery to a run created by the
// same commit must see it, which one statement's snapshot cannot.

const (
	// groupMax bounds the calls applied by one statement.
	groupMax = 128
	// groupTimeout bounds one group's statement; it serves several callers,
	// so it cannot use any one caller's context.
	groupTimeout = time.Minute
)

// sqlCommitGroup applies a group of commits; $1..$11 describe the commits
// (one element each, position = ordinality), the other arrays their parts,
// each tagged with the position of its commit ($21..$31: taskParams). The
// scalars come last: the default task lease, the NOTIFY channel, whether
// to notify.
const sqlCommitGroup = `WITH c AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bool[], $6::text[],
		$7::bytea[], $8::bytea[], $9::timestamptz[], $10::text[], $11::bool[])
		WITH ORDINALITY AS c(run_id, owner, expect, new_len, upd, status, result, error, wake_at, next_run_id, closed, idx)
), f AS (
	UPDATE runs r SET
		journal_len = c.new_len,
		updated_at  = now(),
		status      = CASE WHEN c.upd THEN c.status      ELSE r.status      END,
		result      = CASE WHEN c.upd THEN c.result      ELSE r.result      END,
		error       = CASE WHEN c.upd THEN c.error       ELSE r.error       END,
		wake_at     = CASE WHEN c.upd THEN c.wake_at     ELSE r.wake_at     END,
		next_run_id = CASE WHEN c.upd THEN c.next_run_id ELSE r.next_run_id END,
		owner       = CASE WHEN c.closed THEN ''   ELSE r.owner       END,
		lease_until = CASE WHEN c.closed THEN NULL ELSE r.lease_until END
	FROM c
	WHERE r.run_id = c.run_id AND r.owner = c.owner AND c.owner <> ''
	  AND r.lease_until > now() AND r.journal_len = c.expect
	RETURNING c.idx, r.run_id
), ev AS (
	INSERT INTO events (run_id, seq, kind, data, at)
	SELECT f.run_id, e.seq, e.kind, e.data, coalesce(e.at, now())
	FROM unnest($12::bigint[], $13::bigint[], $14::text[], $15::bytea[], $16::timestamptz[])
		AS e(idx, seq, kind, data, at)
	JOIN f ON f.idx = e.idx
), ib AS (
	DELETE FROM inbox i USING unnest($17::bigint[], $18::bigint[]) AS x(idx, id), f
	WHERE f.idx = x.idx AND i.id = x.id AND i.run_id = f.run_id
), dt AS (
	DELETE FROM tasks t USING unnest($19::bigint[], $20::text[]) AS x(idx, id), f
	WHERE f.idx = x.idx AND t.id = x.id
), ct AS (
	INSERT INTO tasks (id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)
	SELECT t.id, t.run_id, t.kind, t.queue, coalesce(t.due_at, now()), t.attempt, t.data, t.details, t.owner,
		CASE WHEN t.owner = '' THEN NULL
			ELSE coalesce(t.lease_until, now() + $32::bigint * interval '1 microsecond') END
	FROM unnest($21::bigint[], $22::text[], $23::text[], $24::text[], $25::text[], $26::timestamptz[],
		$27::int[], $28::bytea[], $29::bytea[], $30::text[], $31::timestamptz[])
		AS t(idx, id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)
	JOIN f ON f.idx = t.idx
	RETURNING queue, owner
)
SELECT array(SELECT idx FROM f),
	(SELECT count(pg_notify($33, p)) FROM (SELECT DISTINCT 'task:' || queue AS p FROM ct WHERE owner = '') n
	 WHERE $34)`

// groupReq is one call waiting for its group.
type groupReq[P any] struct {
	p    P
	err  error
	done chan struct{}
}

// grouper queues calls of one kind and hands them to flush in groups, with
// up to maxFlushers flushes at a time. A call that finds a free flusher
// goes out at once, alone or with whatever queued before it.
type grouper[P any] struct {
	op          string
	maxFlushers int
	flush       func(ctx context.Context, group []*groupReq[P])

	mu       sync.Mutex
	queue    []*groupReq[P]
	flushers int
}

func (g *grouper[P]) do(ctx context.Context, p P) error {
	if err := ctx.Err(); err != nil {
		return interpretError(g.op, err)
	}
	req := &groupReq[P]{p: p, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, req)
	if g.flushers < g.maxFlushers {
		g.flushers++
		go g.flushLoop()
	}
	g.mu.Unlock()
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		// The call may still be applied: like a lost connection, the
		// outcome is unknown (for a commit, the next commit's fencing
		// tells).
		return interpretError(g.op, ctx.Err())
	}
}

func (g *grouper[P]) flushLoop() {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.flushers--
			g.mu.Unlock()
			return
		}
		n := min(len(g.queue), groupMax)
		group := make([]*groupReq[P], n)
		copy(group, g.queue)
		clear(g.queue[:n])
		g.queue = g.queue[n:]
		if len(g.queue) == 0 {
			g.queue = nil // let the backing array go
		}
		g.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		g.flush(ctx, group)
		cancel()
		for _, r := range group {
			close(r.done)
		}
	}
}

// failAllIfUnavailable gives every call of group the error of its failed
// statement and reports true when the failure is a passing one (the server
// went away): making each call alone, as for a statement that failed on
// one call's data, would only fail again, once per call.
func failAllIfUnavailable[P any](group []*groupReq[P], op string, err error) bool {
	ierr := interpretError(op, err)
	if !errors.Is(ierr, store.ErrUnavailable) {
		return false
	}
	for _, r := range group {
		r.err = ierr
	}
	return true
}

type commitReq = groupReq[*store.CommitParams]

// commitGroup applies group with one statement and sets each request's err.
func (s *Store) commitGroup(ctx context.Context, group []*commitReq) {
	// One lock order for every group: concurrent groups that share runs
	// (only when one run has concurrent commits) then wait instead of
	// deadlocking.
	slices.SortStableFunc(group, func(a, b *commitReq) int { return strings.Compare(a.p.RunID, b.p.RunID) })
	ok, err := s.execCommitGroup(ctx, group)
	if err != nil {
		if len(group) == 1 || failAllIfUnavailable(group, "commit", err) {
			group[0].err = interpretError("commit", err)
			return
		}
		for _, r := range group { // each alone, for its own answer
			s.commitGroup(ctx, []*commitReq{r})
		}
		return
	}
	var failed []*commitReq
	for i, r := range group {
		if !ok[i] {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		s.classifyFenceFailures(ctx, failed)
	}
}

// Array parameters of sqlCommitGroup, by position ($n = position + 1); the
// tasks to create follow from cgTasks (taskParams).
const (
	cgRunID = iota
	cgOwner
	cgExpect
	cgNewLen
	cgUpd
	cgStatus
	cgResult
	cgError
	cgWake
	cgNext
	cgClosed
	cgEvIdx
	cgEvSeq
	cgEvKind
	cgEvData
	cgEvAt
	cgIbIdx
	cgIbID
	cgDtIdx
	cgDtID
	cgTasks
)

var commitGroupOIDs = append([]uint32{
	cgRunID: oidText, cgOwner: oidText, cgExpect: oidInt8, cgNewLen: oidInt8, cgUpd: oidBool, cgStatus: oidText,
	cgResult: oidBytea, cgError: oidBytea, cgWake: oidTimestamptz, cgNext: oidText, cgClosed: oidBool,
	cgEvIdx: oidInt8, cgEvSeq: oidInt8, cgEvKind: oidText, cgEvData: oidBytea, cgEvAt: oidTimestamptz,
	cgIbIdx: oidInt8, cgIbID: oidInt8, cgDtIdx: oidInt8, cgDtID: oidText,
}, taskParamOIDs[:]...)

// execCommitGroup runs sqlCommitGroup and reports which commits held their
// fence.
func (s *Store) execCommitGroup(ctx context.Context, group []*commitReq) ([]bool, error) {
	args := s.groupParams(commitGroupOIDs)
	defer s.params.Put(args)
	a := args.arrays
	var none store.RunUpdate
	for i, r := range group {
		p, idx := r.p, int64(i+1)
		a[cgRunID].text(p.RunID)
		a[cgOwner].text(p.Owner)
		a[cgExpect].int8(p.ExpectLen)
		a[cgNewLen].int8(p.ExpectLen + int64(len(p.Events)))
		u := p.Update
		if u == nil {
			u = &none
		}
		a[cgUpd].bool(p.Update != nil)
		a[cgStatus].text(string(u.Status))
		a[cgResult].bytes(u.Result)
		a[cgError].bytes(u.Error)
		a[cgWake].timestamptz(u.WakeAt)
		a[cgNext].text(u.NextRunID)
		a[cgClosed].bool(p.Update != nil && !u.Status.Open())
		for j, e := range p.Events {
			a[cgEvIdx].int8(idx)
			a[cgEvSeq].int8(p.ExpectLen + int64(j) + 1)
			a[cgEvKind].text(e.Kind)
			a[cgEvData].bytes(e.Data)
			a[cgEvAt].timestamptz(e.At)
		}
		for _, id := range p.ConsumeInbox {
			a[cgIbIdx].int8(idx)
			a[cgIbID].int8(id)
		}
		for _, id := range p.DeleteTasks {
			a[cgDtIdx].int8(idx)
			a[cgDtID].text(id)
		}
		taskParams(a[cgTasks:], idx, p.RunID, p.CreateTasks)
	}
	row, err := s.execGroup(ctx, "durable_commit_group", sqlCommitGroup, args, 2)
	if err != nil {
		return nil, err
	}
	fenced, err := decodeInt8Array(row[0])
	if err != nil {
		return nil, fmt.Errorf("commit group: %w", err)
	}
	ok := make([]bool, len(group))
	for _, idx := range fenced {
		if idx < 1 || int(idx) > len(group) {
			return nil, fmt.Errorf("commit group: position %d out of range", idx)
		}
		ok[idx-1] = true
	}
	return ok, nil
}

// classifyFenceFailures tells each commit whose fence failed why, from the
// run's current state: not found, lease lost (checked first, so a stranger
// learns nothing about the journal) or conflict.
func (s *Store) classifyFenceFailures(ctx context.Context, failed []*commitReq) {
	ids := make([]string, len(failed))
	for i, r := range failed {
		ids[i] = r.p.RunID
	}
	type state struct {
		owner string
		live  bool
		len   int64
	}
	states := map[string]state{}
	rows, err := s.pool.Query(ctx, `SELECT run_id, owner, coalesce(lease_until > now(), false), journal_len
		FROM runs WHERE run_id = ANY($1)`, ids)
	if err == nil {
		for rows.Next() {
			var id string
			var st state
			if err = rows.Scan(&id, &st.owner, &st.live, &st.len); err != nil {
				break
			}
			states[id] = st
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	for _, r := range failed {
		st, found := states[r.p.RunID]
		switch {
		case err != nil:
			r.err = errors.Join(fmt.Errorf("postgres: commit: %w", store.ErrConflict), interpretError("commit: classify", err))
		case !found:
			r.err = fmt.Errorf("postgres: commit: run %s: %w", r.p.RunID, store.ErrNotFound)
		case st.owner != r.p.Owner || r.p.Owner == "" || !st.live:
			r.err = fmt.Errorf("postgres: commit: run %s: %w", r.p.RunID, store.ErrLeaseLost)
		default:
			r.err = fmt.Errorf("postgres: commit: run %s has %d events, commit expected %d: %w",
				r.p.RunID, st.len, r.p.ExpectLen, store.ErrConflict)
		}
	}
}
