package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ActivityInfo describes the activity attempt a context belongs to.
type ActivityInfo struct {
	ActivityID       string
	Activity         string // registered name
	Attempt          int    // 1 for the first attempt
	WorkflowID       string
	RunID            string
	Workflow         string
	Queue            string
	ScheduledTime    time.Time
	StartedTime      time.Time
	Deadline         time.Time // zero when the attempt has no deadline
	HeartbeatTimeout time.Duration
	// TaskToken names this attempt for Engine.CompleteActivity and
	// Engine.RecordActivityHeartbeat, which complete an activity that
	// returned ErrResultPending from any process on the store. It is
	// printable (it travels in URLs and forms) and opaque.
	TaskToken []byte
}

func activityStateOf(ctx context.Context) *activityState {
	st, _ := ctx.Value(activityKey).(*activityState)
	return st
}

// IsActivity reports whether ctx is an activity attempt's context.
func IsActivity(ctx context.Context) bool { return activityStateOf(ctx) != nil }

// GetActivityInfo returns what is known about the attempt ctx belongs to.
// It panics when ctx is not an activity's context.
func GetActivityInfo(ctx context.Context) ActivityInfo {
	st := activityStateOf(ctx)
	if st == nil {
		panic("durable.GetActivityInfo: ctx is not an activity context")
	}
	if st.outbound != nil {
		return st.outbound.GetInfo(ctx)
	}
	return st.info
}

// RecordHeartbeat tells the engine the activity is alive and records
// details that a later attempt can read with HeartbeatDetails. Outside an
// activity it does nothing.
func RecordHeartbeat(ctx context.Context, details ...any) {
	st := activityStateOf(ctx)
	if st == nil {
		return
	}
	if st.outbound != nil {
		st.outbound.RecordHeartbeat(ctx, details...)
		return
	}
	st.recordHeartbeat(details)
}

// recordHeartbeat is RecordHeartbeat without interceptors.
func (st *activityState) recordHeartbeat(details []any) {
	var raw json.RawMessage
	if len(details) > 0 {
		var err error
		if raw, err = encodeArgs(details); err != nil {
			st.e.cfg.logger.Warn("durable: heartbeat details not recorded", "error", err)
			raw = nil
		}
	}
	st.heartbeat(raw)
}

// HasHeartbeatDetails reports whether an earlier attempt recorded details.
func HasHeartbeatDetails(ctx context.Context) bool {
	st := activityStateOf(ctx)
	if st != nil && st.outbound != nil {
		return st.outbound.HasHeartbeatDetails(ctx)
	}
	return st != nil && len(st.previous) > 0
}

// HeartbeatDetails decodes the details an earlier attempt recorded, one
// pointer per value given to RecordHeartbeat.
func HeartbeatDetails(ctx context.Context, ptrs ...any) error {
	st := activityStateOf(ctx)
	if st == nil {
		return fmt.Errorf("durable.HeartbeatDetails: ctx is not an activity context")
	}
	if st.outbound != nil {
		return st.outbound.GetHeartbeatDetails(ctx, ptrs...)
	}
	return st.heartbeatDetails(ptrs)
}

// heartbeatDetails is HeartbeatDetails without interceptors.
func (st *activityState) heartbeatDetails(ptrs []any) error {
	if len(st.previous) == 0 {
		return fmt.Errorf("durable.HeartbeatDetails: no heartbeat details recorded")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(st.previous, &elems); err != nil {
		return fmt.Errorf("durable.HeartbeatDetails: %w", err)
	}
	if len(ptrs) > len(elems) {
		return fmt.Errorf("durable.HeartbeatDetails: %d values recorded, %d requested", len(elems), len(ptrs))
	}
	for i, p := range ptrs {
		if err := decodeInto(fmt.Sprintf("heartbeat detail %d", i+1), elems[i], p); err != nil {
			return err
		}
	}
	return nil
}

// ActivityClient returns the engine that runs the activity ctx belongs to,
// for activities that start or talk to runs (Temporal's
// activity.GetClient). It panics when ctx is not an activity's context.
func ActivityClient(ctx context.Context) *Engine {
	st := activityStateOf(ctx)
	if st == nil {
		panic("durable.ActivityClient: ctx is not an activity context")
	}
	return st.e
}

// Namespace returns the namespace of the activity's run: Namespace, the
// one every durable store has (Temporal's ActivityInfo.WorkflowNamespace).
func (ActivityInfo) Namespace() string { return Namespace }
