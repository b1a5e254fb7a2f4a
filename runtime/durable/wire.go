package durable

import (
	"encoding/json"
	"fmt"
	"time"
)

// The stored forms of what the engine keeps outside the journal: the
// payload of an activity task row (store.Task.Data) and the retry policy
// in a run's start options. They are separate from the public types so
// that renaming a Go field never changes what is stored, and they carry a
// version so that an engine refuses a payload a newer one wrote instead of
// misreading it. Journal events have their own encoding (package journal).
//
// The JSON names are the ones the engine has always written (the public
// types' field names); payloads without a version are version 1.

// taskWireVersion is the highest version of the activity task payload
// this engine reads. It writes version 1, or 2 for a task with a header.
const taskWireVersion = 2

// activityTaskWire is the stored form of an activityTask.
type activityTaskWire struct {
	V           int             `json:"v,omitempty"`
	RunID       string          `json:"runId"`
	WorkflowID  string          `json:"workflowId"`
	Workflow    string          `json:"workflow"`
	ID          int64           `json:"id"`
	Activity    string          `json:"activity"`
	Args        json.RawMessage `json:"args"`
	Options     callOptionsWire `json:"options"`
	ScheduledAt time.Time       `json:"scheduledAt"`
	Trace       string          `json:"trace,omitempty"` // W3C traceparent of the scheduling step
	// Header (version 2) carries context values for the attempt; an
	// engine that does not read it must not run the attempt without them.
	Header map[string][]byte `json:"header,omitempty"`
}

// callOptionsWire is the stored form of CallOptions.
type callOptionsWire struct {
	StartToCloseTimeout    time.Duration    `json:"StartToCloseTimeout"`
	ScheduleToCloseTimeout time.Duration    `json:"ScheduleToCloseTimeout"`
	ScheduleToStartTimeout time.Duration    `json:"ScheduleToStartTimeout"`
	HeartbeatTimeout       time.Duration    `json:"HeartbeatTimeout"`
	RetryPolicy            *retryPolicyWire `json:"RetryPolicy"`
	Queue                  string           `json:"Queue"`
	WaitForCancellation    bool             `json:"WaitForCancellation"`
	ActivityID             string           `json:"ActivityID"`
}

// retryPolicyWire is the stored form of RetryPolicy.
type retryPolicyWire struct {
	InitialInterval        time.Duration `json:"InitialInterval"`
	BackoffCoefficient     float64       `json:"BackoffCoefficient"`
	MaximumInterval        time.Duration `json:"MaximumInterval"`
	MaximumAttempts        int           `json:"MaximumAttempts"`
	NonRetryableErrorTypes []string      `json:"NonRetryableErrorTypes"`
}

// startedOptions are the start options a run keeps in its Started event
// (journal.StartedData.Options) for the engine to act on later.
type startedOptions struct {
	RetryPolicy *retryPolicyWire `json:"retryPolicy,omitempty"`
}

func toRetryPolicyWire(p *RetryPolicy) *retryPolicyWire {
	if p == nil {
		return nil
	}
	w := retryPolicyWire(*p)
	return &w
}

func (w *retryPolicyWire) policy() *RetryPolicy {
	if w == nil {
		return nil
	}
	p := RetryPolicy(*w)
	return &p
}

// encodeTask is the stored payload of an activity task.
func encodeTask(at *activityTask) []byte {
	o := at.Options
	w := activityTaskWire{
		V: 1, RunID: at.RunID, WorkflowID: at.WorkflowID, Workflow: at.Workflow, ID: at.ID,
		Activity: at.Activity, Args: at.Args, ScheduledAt: at.ScheduledAt, Trace: at.Trace,
		Options: callOptionsWire{
			StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
			ScheduleToStartTimeout: o.ScheduleToStartTimeout, HeartbeatTimeout: o.HeartbeatTimeout,
			RetryPolicy: toRetryPolicyWire(o.RetryPolicy), Queue: o.Queue,
			WaitForCancellation: o.WaitForCancellation, ActivityID: o.ActivityID,
		},
	}
	if len(at.Header) > 0 {
		// Only a task with a header needs an engine that reads version 2:
		// older ones keep working the others during a rolling deploy.
		w.V, w.Header = 2, at.Header
	}
	b, err := json.Marshal(&w)
	if err != nil {
		// Args were produced by json.Marshal; the rest are plain fields.
		panic(fmt.Sprintf("durable: encode activity task: %v", err))
	}
	return b
}

// decodeTask reads an activity task's stored payload.
func decodeTask(data []byte) (activityTask, error) {
	var w activityTaskWire
	if err := jsonUnmarshal(data, &w); err != nil {
		return activityTask{}, err
	}
	if w.V > taskWireVersion {
		return activityTask{}, fmt.Errorf("activity task payload version %d is newer than this engine reads (%d)", w.V, taskWireVersion)
	}
	o := w.Options
	return activityTask{
		RunID: w.RunID, WorkflowID: w.WorkflowID, Workflow: w.Workflow, ID: w.ID,
		Activity: w.Activity, Args: w.Args, ScheduledAt: w.ScheduledAt, Trace: w.Trace, Header: w.Header,
		Options: CallOptions{
			StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
			ScheduleToStartTimeout: o.ScheduleToStartTimeout, HeartbeatTimeout: o.HeartbeatTimeout,
			RetryPolicy: o.RetryPolicy.policy(), Queue: o.Queue,
			WaitForCancellation: o.WaitForCancellation, ActivityID: o.ActivityID,
		},
	}, nil
}
