package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// LoadJournal implements store.Store.
func (s *Store) LoadJournal(ctx context.Context, runID string, afterSeq int64) ([]store.Event, error) {
	var events []store.Event
	err := s.read(ctx, func() error {
		events = events[:0]
		rows, err := s.rst.loadJournal.QueryContext(ctx, runID, afterSeq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e  store.Event
				at int64
			)
			if err := rows.Scan(&e.Seq, &e.Kind, &e.Data, &at); err != nil {
				return err
			}
			e.At = fromNanos(at)
			events = append(events, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load journal of run %s: %w", runID, err)
	}
	return events, nil
}

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, p *store.CommitParams) error {
	if p.Update != nil && !validStatus(p.Update.Status) {
		return fmt.Errorf("sqlite: commit to run %s: invalid status %q", p.RunID, p.Update.Status)
	}
	for _, c := range p.CreateRuns {
		if err := checkCreate(c); err != nil {
			return err
		}
	}
	write := s.write
	if len(p.CreateRuns) > 0 {
		// A child may collide with an open run of its workflow ID, after
		// the fenced update wrote. (Other late failures, such as a task
		// ID that exists, are too rare to pay a savepoint for: the
		// writer reruns the group call by call.)
		write = s.writeIsolated
	}
	return write(ctx, func(tx *wtx) error { return tx.commitRun(p) })
}

func (tx *wtx) commitRun(p *store.CommitParams) error {
	newLen := p.ExpectLen + int64(len(p.Events))
	var (
		row int64 // runs.id
		err error
	)
	switch u := p.Update; {
	case u == nil:
		err = tx.scanRow(tx.stmts.commitRun, true, []any{newLen, tx.now, p.RunID, p.Owner, p.ExpectLen}, &row)
	case u.Status == store.StatusRunning && u.Result == nil && u.Error == nil && u.NextRunID == "":
		// Most commits: the run stays running and only its wake time may
		// change. The statement also requires status running; a run in
		// another status takes the general statement below.
		err = tx.scanRow(tx.commitRunWake, true, []any{newLen, tx.now, p.RunID, p.Owner, p.ExpectLen,
			toNanos(u.WakeAt)}, &row)
		if !errors.Is(err, sql.ErrNoRows) {
			break
		}
		fallthrough
	default:
		err = tx.scanRow(tx.commitRunUpdate, true, []any{newLen, tx.now, p.RunID, p.Owner, p.ExpectLen,
			string(u.Status), u.Result, u.Error, toNanos(u.WakeAt), u.NextRunID, !u.Status.Open()}, &row)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return tx.whyNotCommitted(p)
	}
	if err != nil {
		return err
	}

	if err := tx.appendEvents(row, p.RunID, p.ExpectLen, p.Events); err != nil {
		return err
	}
	for _, id := range p.ConsumeInbox {
		if _, err := tx.exec(tx.consumeInbox, id, p.RunID); err != nil {
			return err
		}
	}
	if err := tx.createTasks(p.RunID, p.CreateTasks); err != nil {
		return err
	}
	for _, id := range p.DeleteTasks {
		if _, err := tx.exec(tx.deleteTask, id); err != nil {
			return err
		}
	}
	for _, c := range p.CreateRuns {
		if err := tx.createRun(c); err != nil {
			return err
		}
	}
	for _, d := range p.Deliver {
		if _, err := tx.deliver(d); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// whyNotCommitted finds which check of a commit failed. Fencing comes first:
// a caller without the lease learns nothing about the journal.
func (tx *wtx) whyNotCommitted(p *store.CommitParams) error {
	var (
		owner      string
		leaseUntil int64
		length     int64
	)
	err := tx.scanRow(tx.runLease, false, []any{p.RunID}, &owner, &leaseUntil, &length)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("commit to run %s: %w", p.RunID, store.ErrNotFound)
	case err != nil:
		return err
	case owner != p.Owner || leaseUntil <= tx.now:
		return fmt.Errorf("commit to run %s by %q: %w", p.RunID, p.Owner, store.ErrLeaseLost)
	default:
		return fmt.Errorf("commit to run %s: journal has %d events, commit expected %d: %w",
			p.RunID, length, p.ExpectLen, store.ErrConflict)
	}
}

// appendEvents inserts events as Seq = after+1, after+2, ...
func (tx *wtx) appendEvents(row int64, runID string, after int64, events []store.Event) error {
	at := func(e store.Event) int64 {
		if t := toNanos(e.At); t != 0 {
			return t
		}
		return tx.now
	}
	for i := 0; i < len(events); {
		seq := after + int64(i) + 1
		var err error
		if i+1 < len(events) {
			a, b := events[i], events[i+1]
			_, err = tx.exec(tx.insertEvents2, row, seq, a.Kind, a.Data, at(a), seq+1, b.Kind, b.Data, at(b))
			i += 2
		} else {
			e := events[i]
			_, err = tx.exec(tx.insertEvent, row, seq, e.Kind, e.Data, at(e))
			i++
		}
		if err != nil {
			return fmt.Errorf("append event %d to run %s: %w", seq, runID, translate(err))
		}
	}
	return nil
}

// taskLeaseDefault is the lease of a task created with an owner but no
// LeaseUntil.
const taskLeaseDefault = 30 * time.Second

// createTasks inserts tasks of runID; a task without ID or RunID gets one.
func (tx *wtx) createTasks(runID string, tasks []*store.Task) error {
	for _, t := range tasks {
		id, rid := t.ID, t.RunID
		if id == "" {
			id = newID()
		}
		if rid == "" {
			rid = runID
		}
		// A task created with an owner is leased to it, so that the
		// creating worker runs it without a claim round-trip.
		var lease int64
		if t.Owner != "" {
			lease = toNanos(t.LeaseUntil)
			if lease == 0 {
				lease = tx.now + int64(taskLeaseDefault)
			}
		}
		if _, err := tx.exec(tx.insertTask, id, rid, t.Kind, t.Queue, toNanos(t.DueAt), int64(t.Attempt),
			t.Data, t.Details, tx.now, t.Owner, lease); err != nil {
			return fmt.Errorf("create task %s: %w", id, translate(err))
		}
		if t.Owner == "" {
			tx.announce("task", t.Queue)
		}
	}
	return nil
}
