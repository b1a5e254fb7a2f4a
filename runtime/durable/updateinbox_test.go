package durable_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// Capped accepts at most two "add" updates: its validator rejects the
// third, as Temporal code that backs off before continuing as new does.
func Capped(ctx context.Context) (int, error) {
	n := 0
	err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, d int) (int, error) {
		n += d
		return n, nil
	}, durable.UpdateOptions{Validator: func(ctx context.Context, d int) error {
		if n >= 2 {
			return errors.New("full")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	if _, err := durable.Receive[string](ctx, "done"); err != nil {
		return 0, err
	}
	return n, nil
}

// Updates sent from a process without the workflow's code reach the run
// through the store; the run's worker validates each as it takes it, in
// order, so a burst cannot get past the validator on a stale view.
func TestInboxUpdatesAreValidatedByTheRun(t *testing.T) {
	ctx := waitCtx(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "u.db")
	worker := openEngine(t, dsn)
	worker.RegisterWorkflow(Capped)
	client := openEngine(t, dsn, durable.WithClientOnly())
	run, err := client.Start(ctx, durable.StartOptions{ID: "capped"}, "Capped")
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = client.Update(ctx, "capped", "add", 1)
		}()
	}
	wg.Wait()
	accepted, rejected := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, durable.ErrUpdateRejected):
			require.ErrorContains(t, err, "full")
			rejected++
		default:
			t.Fatalf("update: %v", err)
		}
	}
	require.Equal(t, 2, accepted)
	require.Equal(t, 2, rejected)

	require.NoError(t, client.Signal(ctx, "capped", "done", "x"))
	var n int
	require.NoError(t, run.Get(ctx, &n))
	require.Equal(t, 2, n)
	require.NoError(t, worker.Verify(ctx, run.RunID()), "a journal with rejected updates replays")
}
