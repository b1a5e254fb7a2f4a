package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
)

// TestGroupCommit checks that calls applied together by one statement still
// get their own answers.
func TestGroupCommit(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	const n = 60

	// runConcurrently calls fn(i) for i < n from n goroutines at once and
	// returns the errors by i.
	runConcurrently := func(fn func(i int) error) []error {
		errs := make([]error, n)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = fn(i)
			})
		}
		close(start)
		wg.Wait()
		return errs
	}

	setup := func(t *testing.T) *postgres.Store {
		t.Helper()
		// One flusher forces the calls that arrive meanwhile into groups.
		s := openStore(t, postgres.WithCommitConcurrency(1))
		errs := runConcurrently(func(i int) error {
			return s.CreateRun(ctx, &store.CreateRunParams{
				Run:    &store.Run{RunID: fmt.Sprint("r", i), WorkflowID: fmt.Sprint("wf", i), Workflow: "W"},
				Events: []store.Event{{Kind: "started"}},
				Owner:  "w", Lease: time.Hour,
			})
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		return s
	}

	t.Run("CommitsFailAlone", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		errs := runConcurrently(func(i int) error {
			p := &store.CommitParams{RunID: fmt.Sprint("r", i), Owner: "w", ExpectLen: 1,
				Events:      []store.Event{{Kind: "step"}},
				CreateTasks: []*store.Task{{ID: fmt.Sprint("t", i), Kind: "activity"}}}
			switch i % 5 {
			case 1:
				p.Owner = "stranger"
			case 2:
				p.ExpectLen = 3
			case 3:
				p.RunID = fmt.Sprint("missing", i)
			case 4:
				if i == 4 {
					p.CreateTasks[0].ID = "t0" // duplicate of run 0's task: fails its whole group first
				}
			}
			return s.Commit(ctx, p)
		})
		for i, err := range errs {
			switch {
			case i%5 == 1:
				require.ErrorIs(t, err, store.ErrLeaseLost, "commit %d", i)
			case i%5 == 2:
				require.ErrorIs(t, err, store.ErrConflict, "commit %d", i)
			case i%5 == 3:
				require.ErrorIs(t, err, store.ErrNotFound, "commit %d", i)
			case i == 4:
				// Either order: whichever of r0 and r4 inserted t0 second failed.
				if err != nil {
					require.ErrorIs(t, err, store.ErrAlreadyExists)
				}
			default:
				if i == 0 && err != nil {
					require.ErrorIs(t, err, store.ErrAlreadyExists)
					continue
				}
				require.NoError(t, err, "commit %d", i)
			}
		}
		require.True(t, (errs[0] == nil) != (errs[4] == nil), "exactly one of the t0 creators won")

		for i := range n {
			run, err := s.GetRun(ctx, fmt.Sprint("r", i))
			require.NoError(t, err)
			events, err := s.LoadJournal(ctx, run.RunID, 0)
			require.NoError(t, err)
			require.Len(t, events, int(run.JournalLen), "run %d", i)
			if errs[i] == nil && i%5 != 3 {
				require.EqualValues(t, 2, run.JournalLen, "run %d", i)
			} else {
				require.EqualValues(t, 1, run.JournalLen, "run %d", i)
			}
		}
	})

	t.Run("CompletionsFailAlone", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		errs := runConcurrently(func(i int) error {
			return s.Commit(ctx, &store.CommitParams{RunID: fmt.Sprint("r", i), Owner: "w", ExpectLen: 1,
				CreateTasks: []*store.Task{{ID: fmt.Sprint("t", i), Kind: "activity"}}})
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		claimed, err := s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "a", Limit: n, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, claimed, n)

		results := make([]*store.DeliverParams, n)
		errs = runConcurrently(func(i int) error {
			owner := "a"
			if i%4 == 1 {
				owner = "b"
			}
			id := fmt.Sprint("t", i)
			if i%4 == 2 {
				id = fmt.Sprint("missing", i)
			}
			results[i] = &store.DeliverParams{Kind: "result", Name: id, Data: []byte(fmt.Sprint(i))}
			return s.CompleteTask(ctx, &store.CompleteTaskParams{ID: id, Owner: owner, Result: results[i]})
		})
		for i, err := range errs {
			inbox, lerr := s.ListInbox(ctx, fmt.Sprint("r", i))
			require.NoError(t, lerr)
			switch i % 4 {
			case 1:
				require.ErrorIs(t, err, store.ErrLeaseLost, "completion %d", i)
				require.Empty(t, inbox)
			case 2:
				require.ErrorIs(t, err, store.ErrNotFound, "completion %d", i)
				require.Empty(t, inbox)
			default:
				require.NoError(t, err, "completion %d", i)
				require.Equal(t, fmt.Sprint("r", i), results[i].RunID)
				require.Len(t, inbox, 1)
				require.Equal(t, []byte(fmt.Sprint(i)), inbox[0].Data)
			}
		}
	})

	t.Run("CreationsFailAlone", func(t *testing.T) {
		t.Parallel()
		s := setup(t)

		errs := runConcurrently(func(i int) error {
			wf := fmt.Sprint("new", i)
			if i%3 == 1 {
				wf = fmt.Sprint("wf", i) // r<i> holds it open
			}
			return s.CreateRun(ctx, &store.CreateRunParams{
				Run:   &store.Run{RunID: fmt.Sprint("n", i), WorkflowID: wf, Workflow: "W"},
				Tasks: []*store.Task{{ID: fmt.Sprint("nt", i), Kind: "activity"}},
			})
		})
		for i, err := range errs {
			_, gerr := s.GetRun(ctx, fmt.Sprint("n", i))
			if i%3 == 1 {
				require.ErrorIs(t, err, store.ErrAlreadyExists, "creation %d", i)
				require.ErrorIs(t, gerr, store.ErrNotFound)
			} else {
				require.NoError(t, err, "creation %d", i)
				require.NoError(t, gerr)
			}
		}
		claimed, err := s.ClaimTasks(ctx, &store.ClaimTasksParams{Owner: "a", Limit: 2 * n, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, claimed, n-n/3, "only the created runs' tasks exist")
	})
}
