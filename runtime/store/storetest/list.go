package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/store"
)

// exerciseList covers the filters and paging of ListRuns that operators'
// tools use, and store.RunCounter.
func exerciseList(t *testing.T, open OpenFunc) {
	t.Helper()

	// setup creates five runs in this order: order-1 (Ship, queue a),
	// order-2 (Ship, queue b, completed), order_3 (Bill, queue a),
	// invoice-1 (Bill, queue b) and order-4 (Ship, queue a, stuck).
	type bundle struct {
		*testBundle
		ids   []string // run IDs in creation order
		split time.Time
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		b := &bundle{testBundle: newBundle(t, open)}
		add := func(wf, workflow, queue string, status store.RunStatus) {
			r := &store.Run{RunID: newID("run"), WorkflowID: wf + newID("-x"), Workflow: workflow, Queue: queue, Status: status, WakeAt: past()}
			require.NoError(t, b.store.CreateRun(b.ctx, &store.CreateRunParams{Run: r}))
			b.ids = append(b.ids, r.RunID)
		}
		add("order-1", "Ship", "a", "")
		add("order-2", "Ship", "b", store.StatusCompleted)
		time.Sleep(5 * time.Millisecond) // created_at must differ across split
		b.split = time.Now()
		time.Sleep(5 * time.Millisecond)
		add("order_3", "Bill", "a", "")
		add("invoice-1", "Bill", "b", "")
		add("order-4", "Ship", "a", store.StatusStuck)
		return b
	}
	ids := func(runs []*store.Run) []string {
		out := make([]string, len(runs))
		for i, r := range runs {
			out[i] = r.RunID
		}
		return out
	}

	t.Run("FiltersCombine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, tc := range []struct {
			name string
			p    store.ListRunsParams
			want []int
		}{
			{"All", store.ListRunsParams{}, []int{0, 1, 2, 3, 4}},
			{"Prefix", store.ListRunsParams{WorkflowIDPrefix: "order-"}, []int{0, 1, 4}},
			{"PrefixIsNotAPattern", store.ListRunsParams{WorkflowIDPrefix: "order_"}, []int{2}},
			{"Workflows", store.ListRunsParams{Workflows: []string{"Bill"}}, []int{2, 3}},
			{"Queues", store.ListRunsParams{Queues: []string{"a"}}, []int{0, 2, 4}},
			{"QueueAndStatus", store.ListRunsParams{Queues: []string{"a"}, Statuses: []store.RunStatus{store.StatusRunning}}, []int{0, 2}},
			{"CreatedAfter", store.ListRunsParams{CreatedAfter: b.split}, []int{2, 3, 4}},
			{"CreatedBefore", store.ListRunsParams{CreatedBefore: b.split}, []int{0, 1}},
			{"FarFuture", store.ListRunsParams{CreatedAfter: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int{}},
			{"FarPast", store.ListRunsParams{CreatedBefore: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}, []int{}},
			{"WideRange", store.ListRunsParams{CreatedAfter: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), CreatedBefore: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int{0, 1, 2, 3, 4}},
			{"NewestFirst", store.ListRunsParams{Newest: true, Workflows: []string{"Ship"}}, []int{4, 1, 0}},
			{"Limit", store.ListRunsParams{Newest: true, Limit: 2}, []int{4, 3}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				got, err := b.store.ListRuns(b.ctx, &tc.p)
				require.NoError(t, err)
				want := make([]string, len(tc.want))
				for i, k := range tc.want {
					want[i] = b.ids[k]
				}
				require.Equal(t, want, ids(got))
			})
		}
	})

	t.Run("PagesAfterARun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		page1, err := b.store.ListRuns(b.ctx, &store.ListRunsParams{Limit: 2})
		require.NoError(t, err)
		require.Equal(t, b.ids[:2], ids(page1))
		page2, err := b.store.ListRuns(b.ctx, &store.ListRunsParams{Limit: 2, AfterRunID: page1[1].RunID})
		require.NoError(t, err)
		require.Equal(t, b.ids[2:4], ids(page2))
		back, err := b.store.ListRuns(b.ctx, &store.ListRunsParams{Newest: true, AfterRunID: b.ids[2]})
		require.NoError(t, err)
		require.Equal(t, []string{b.ids[1], b.ids[0]}, ids(back), "newest first pages towards older runs")
		none, err := b.store.ListRuns(b.ctx, &store.ListRunsParams{AfterRunID: "no-such-run"})
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("CountsByStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, ok := b.store.(store.RunCounter)
		if !ok {
			t.Log("store does not implement store.RunCounter")
			return
		}
		got, err := c.CountRuns(b.ctx, &store.ListRunsParams{Statuses: []store.RunStatus{store.StatusStuck}})
		require.NoError(t, err)
		require.Equal(t, map[store.RunStatus]int64{store.StatusRunning: 3, store.StatusCompleted: 1, store.StatusStuck: 1}, got, "Statuses is ignored")
		got, err = c.CountRuns(b.ctx, &store.ListRunsParams{Workflows: []string{"Ship"}})
		require.NoError(t, err)
		require.Equal(t, map[store.RunStatus]int64{store.StatusRunning: 1, store.StatusCompleted: 1, store.StatusStuck: 1}, got)
	})
}
