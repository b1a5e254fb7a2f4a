package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/durablego/toolkit/runtime/store"
)

// The routing table lives in the durable store as closed runs of a
// pseudo-workflow (the Store interface has no key-value table): one run
// per decision, under the workflow ID routePrefix+ID, so CurrentRun finds
// the newest decision for an ID from any process sharing the store. They
// are never claimed (they are closed) and their queue is served by no one.
const (
	routePrefix   = "compat-route/"
	routeWorkflow = "compat.route"
	routeQueue    = "compat-routes"
)

type routeRecord struct {
	Side     Side      `json:"side"`
	Workflow string    `json:"workflow"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// routes is the persisted routing table with an in-memory cache.
type routes struct {
	st    store.Store
	mu    sync.Mutex
	cache map[string]Side
}

func newRoutes(st store.Store) *routes { return &routes{st: st, cache: map[string]Side{}} }

// put records where an ID was started.
func (r *routes) put(ctx context.Context, workflowID, workflow string, d Decision) error {
	rec, _ := json.Marshal(routeRecord{Side: d.Side, Workflow: workflow, Reason: d.Reason, At: time.Now().UTC()})
	err := r.st.CreateRun(ctx, &store.CreateRunParams{Run: &store.Run{
		RunID: uuid.NewString(), WorkflowID: routePrefix + workflowID, Workflow: routeWorkflow, Queue: routeQueue,
		Status: store.StatusCompleted, Result: rec,
	}})
	if err != nil {
		return fmt.Errorf("compat: record route of %s: %w", workflowID, err)
	}
	r.mu.Lock()
	r.cache[workflowID] = d.Side
	r.mu.Unlock()
	return nil
}

// get returns where an ID was started; ok is false for an ID the table
// does not know (started before the cut-over, or by another client).
func (r *routes) get(ctx context.Context, workflowID string) (Side, bool, error) {
	r.mu.Lock()
	side, ok := r.cache[workflowID]
	r.mu.Unlock()
	if ok {
		return side, true, nil
	}
	run, err := r.st.CurrentRun(ctx, routePrefix+workflowID)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("compat: look up route of %s: %w", workflowID, err)
	}
	var rec routeRecord
	if err := json.Unmarshal(run.Result, &rec); err != nil || rec.Side == "" {
		return "", false, fmt.Errorf("compat: route of %s is unreadable: %s", workflowID, run.Result)
	}
	r.mu.Lock()
	r.cache[workflowID] = rec.Side
	r.mu.Unlock()
	return rec.Side, true, nil
}
