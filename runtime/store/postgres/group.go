package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

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
	// groupCommitMax bounds the commits of one statement.
	groupCommitMax = 128
	// groupTimeout bounds one group's statement; it serves several callers,
	// so it cannot use any one caller's context.
	groupTimeout = time.Minute
)

// sqlCommitGroup applies a group of commits; $1..$11 describe the commits
// (one element each, position = ordinality), the other arrays their parts,
// each tagged with the position of its commit.
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
			ELSE coalesce(t.lease_until, now() + $31::bigint * interval '1 microsecond') END
	FROM unnest($21::bigint[], $22::text[], $23::text[], $24::text[], $25::text[], $26::timestamptz[],
		$27::int[], $28::bytea[], $29::bytea[], $30::text[], $32::timestamptz[])
		AS t(idx, id, run_id, kind, queue, due_at, attempt, data, details, owner, lease_until)
	JOIN f ON f.idx = t.idx
	RETURNING queue, owner
)
SELECT array(SELECT idx FROM f),
	(SELECT count(pg_notify($33, p)) FROM (SELECT DISTINCT 'task:' || queue AS p FROM ct WHERE owner = '') n
	 WHERE $34)`

// commitReq is one Commit waiting for its group.
type commitReq struct {
	p    *store.CommitParams
	err  error
	done chan struct{}
}

// committer queues commits and runs up to maxFlushers group statements at
// a time.
type committer struct {
	s           *Store
	maxFlushers int

	mu       sync.Mutex
	queue    []*commitReq
	flushers int
}

func (c *committer) commit(ctx context.Context, p *store.CommitParams) error {
	req := &commitReq{p: p, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, req)
	if c.flushers < c.maxFlushers {
		c.flushers++
		go c.flushLoop()
	}
	c.mu.Unlock()
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		// The commit may still be applied: like a lost connection, the
		// outcome is unknown, and the fencing of the next commit tells.
		return interpretError("commit", ctx.Err())
	}
}

func (c *committer) flushLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.flushers--
			c.mu.Unlock()
			return
		}
		n := min(len(c.queue), groupCommitMax)
		group := make([]*commitReq, n)
		copy(group, c.queue)
		clear(c.queue[:n])
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = nil // let the backing array go
		}
		c.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		c.s.commitGroup(ctx, group)
		cancel()
		for _, r := range group {
			close(r.done)
		}
	}
}

// commitGroup applies group with one statement and sets each request's err.
func (s *Store) commitGroup(ctx context.Context, group []*commitReq) {
	ok, err := s.execCommitGroup(ctx, group)
	if err != nil {
		if len(group) == 1 {
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

// execCommitGroup runs sqlCommitGroup and reports which commits held their
// fence.
func (s *Store) execCommitGroup(ctx context.Context, group []*commitReq) ([]bool, error) {
	k := len(group)
	var (
		runIDs, owners, statuses, results, errs, nexts = make([]string, k), make([]string, k), make([]string, k),
			make([][]byte, k), make([][]byte, k), make([]string, k)
		expects, newLens = make([]int64, k), make([]int64, k)
		upds, closeds    = make([]bool, k), make([]bool, k)
		wakes            = make([]pgtype.Timestamptz, k)

		evIdx, evSeq   []int64
		evKind         []string
		evData         [][]byte
		evAt           []pgtype.Timestamptz
		ibIdx, ibID    []int64
		dtIdx          []int64
		dtID           []string
		tIdx           []int64
		tID, tRun      []string
		tKind, tQueue  []string
		tOwner         []string
		tDue, tLease   []pgtype.Timestamptz
		tAttempt       []int32
		tData, tDetail [][]byte
	)
	for i, r := range group {
		p, idx := r.p, int64(i+1)
		runIDs[i], owners[i], expects[i] = p.RunID, p.Owner, p.ExpectLen
		newLens[i] = p.ExpectLen + int64(len(p.Events))
		if u := p.Update; u != nil {
			upds[i], statuses[i], results[i], errs[i], nexts[i] = true, string(u.Status), u.Result, u.Error, u.NextRunID
			wakes[i] = nullTime(u.WakeAt)
			closeds[i] = !u.Status.Open()
		}
		for j, e := range p.Events {
			evIdx = append(evIdx, idx)
			evSeq = append(evSeq, p.ExpectLen+int64(j)+1)
			evKind = append(evKind, e.Kind)
			evData = append(evData, e.Data)
			evAt = append(evAt, nullTime(e.At))
		}
		for _, id := range p.ConsumeInbox {
			ibIdx, ibID = append(ibIdx, idx), append(ibID, id)
		}
		for _, id := range p.DeleteTasks {
			dtIdx, dtID = append(dtIdx, idx), append(dtID, id)
		}
		for _, t := range p.CreateTasks {
			if t.ID == "" {
				t.ID = newID()
			}
			if t.RunID == "" {
				t.RunID = p.RunID
			}
			tIdx = append(tIdx, idx)
			tID, tRun, tKind, tQueue, tOwner = append(tID, t.ID), append(tRun, t.RunID), append(tKind, t.Kind),
				append(tQueue, t.Queue), append(tOwner, t.Owner)
			tDue, tLease = append(tDue, nullTime(t.DueAt)), append(tLease, nullTime(t.LeaseUntil))
			tAttempt = append(tAttempt, int32(t.Attempt))
			tData, tDetail = append(tData, t.Data), append(tDetail, t.Details)
		}
	}
	var fenced []int64
	err := s.pool.QueryRow(ctx, sqlCommitGroup,
		runIDs, owners, expects, newLens, upds, statuses, results, errs, wakes, nexts, closeds,
		nonNil(evIdx), nonNil(evSeq), nonNil(evKind), nonNil(evData), nonNil(evAt),
		nonNil(ibIdx), nonNil(ibID),
		nonNil(dtIdx), nonNil(dtID),
		nonNil(tIdx), nonNil(tID), nonNil(tRun), nonNil(tKind), nonNil(tQueue), nonNil(tDue),
		nonNil(tAttempt), nonNil(tData), nonNil(tDetail), nonNil(tOwner), micros(LeaseDefault), nonNil(tLease),
		s.channel, s.cfg.notify,
	).Scan(&fenced, nil)
	if err != nil {
		return nil, err
	}
	ok := make([]bool, k)
	for _, idx := range fenced {
		ok[idx-1] = true
	}
	return ok, nil
}

// nonNil turns a nil slice into an empty one: pgx encodes nil as NULL,
// which unnest would reject.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
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
