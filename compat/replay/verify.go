package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/durablego/toolkit/runtime/durable"
)

// Report is the outcome of replaying one Temporal history.
type Report struct {
	WorkflowID string
	Workflow   string // the workflow the history was replayed through
	Events     int    // journal events made from the history
	// Closed is true when the history ends with the run's close, so that
	// the code's ending (status and result) was compared too.
	Closed bool
	// Divergence is the first difference; nil when the code matches.
	Divergence *Divergence
}

// OK reports whether the code did what the history says.
func (r *Report) OK() bool { return r.Divergence == nil }

// String renders the report on one line (two for a divergence).
func (r *Report) String() string {
	if r.OK() {
		state := "open"
		if r.Closed {
			state = "closed"
		}
		return fmt.Sprintf("OK %s %s (%d events, %s)", r.Workflow, r.WorkflowID, r.Events, state)
	}
	return fmt.Sprintf("DIVERGED %s %s: %s", r.Workflow, r.WorkflowID, r.Divergence)
}

// Divergence is the first point where the code departs from the history.
type Divergence struct {
	EventID   int64  // Temporal event ID; 0 when no single event is at fault
	EventType string // e.g. "ActivityTaskScheduled"
	History   string // what the history has there
	Code      string // what the code did
	Err       error  // the runtime's error
}

func (d *Divergence) String() string {
	at := "after the last event"
	if d.EventID > 0 {
		at = fmt.Sprintf("event %d (%s)", d.EventID, d.EventType)
	}
	return fmt.Sprintf("at %s: history: %s; code: %s", at, d.History, d.Code)
}

// Option configures Verify.
type Option func(*options)

type options struct {
	workflow   string
	workflowID string
	codecs     []converter.PayloadCodec // WithPayloadCodecs
}

// WithWorkflow replays the history through the workflow registered under
// name instead of the one the history's workflow type names.
func WithWorkflow(name string) Option { return func(o *options) { o.workflow = name } }

// WithWorkflowID sets the workflow ID the code sees (durable.GetInfo) when
// the history does not record it.
func WithWorkflowID(id string) Option { return func(o *options) { o.workflowID = id } }

// Parse reads a history in the protojson format `temporal workflow show
// --output json` writes (older exports with "eventType": "ActivityTaskScheduled"
// style enums are accepted too).
func Parse(r io.Reader) (*historypb.History, error) {
	h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	if err != nil {
		return nil, fmt.Errorf("replay: parse history: %w", err)
	}
	return h, nil
}

// Load reads a history file; see Parse.
func Load(path string) (*historypb.History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	h, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// VerifyFile loads a history file and verifies it; see Verify.
func VerifyFile(ctx context.Context, e *durable.Engine, path string, opts ...Option) (*Report, error) {
	h, err := Load(path)
	if err != nil {
		return nil, err
	}
	return Verify(ctx, e, h, opts...)
}

// Verify replays a Temporal history through the converted workflow
// registered on e (open it on "memory:"; register the workflow and, for
// exact argument type checks, its activities) and reports the first
// divergence. Nothing is written and no activity runs. The error is for
// histories that cannot be checked at all: unreadable payloads, events with
// no durable equivalent, a workflow that is not registered.
func Verify(ctx context.Context, e *durable.Engine, h *historypb.History, opts ...Option) (*Report, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.codecs) > 0 {
		var err error
		if h, err = DecodePayloads(h, o.codecs...); err != nil {
			return nil, err
		}
	}
	j, err := Translate(h)
	if err != nil {
		return nil, err
	}
	return j.Verify(ctx, e, opts...)
}

// Verify replays the journal through the workflow registered on e; see
// the package Verify.
func (j *Journal) Verify(ctx context.Context, e *durable.Engine, opts ...Option) (*Report, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	workflow := o.workflow
	if workflow == "" {
		workflow = j.Workflow
	}
	workflowID := o.workflowID
	if workflowID == "" {
		workflowID = j.WorkflowID
	}
	if workflowID == "" {
		workflowID = "replay"
	}
	if o.workflow != "" {
		j.items[0].ev.Workflow = o.workflow
	}
	rep := &Report{WorkflowID: workflowID, Workflow: workflow, Events: len(j.items), Closed: j.Closed}
	// Each round either settles one fact the history lacks (an activity's
	// argument types, which inbound event a command answered) or ends.
	for range 4*len(j.items) + 16 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := e.Replay(ctx, workflowID, workflow, j.Events())
		if err == nil {
			return rep, nil
		}
		var (
			nd  *durable.NonDeterminismError
			nre *durable.NotRegisteredError
		)
		switch {
		case errors.As(err, &nre):
			return nil, fmt.Errorf("replay: %w", err)
		case errors.As(err, &nd) && (nd.Kind == durable.DivergenceEnd || nd.Kind == durable.DivergenceResult):
			rep.Divergence = j.ending(nd)
			return rep, nil
		case nd == nil:
			rep.Divergence = j.failure(err)
			return rep, nil
		}
		if j.settle(nd) {
			continue
		}
		rep.Divergence = j.divergence(nd)
		return rep, nil
	}
	return nil, fmt.Errorf("replay: %s: replay did not settle", workflowID)
}

// settle fixes the journal where the divergence at nd is only a fact the
// history does not record, and reports whether it did.
func (j *Journal) settle(nd *durable.NonDeterminismError) bool {
	p := int(nd.Seq) - 1
	if p < 0 || p >= len(j.items) {
		return false
	}
	it := &j.items[p]
	if it.ev.Kind == durable.EventActivityScheduled && (it.types == typesUnknown || it.types == typesGuessed) {
		d := &it.ev
		call := foundCall(nd)
		if call == nil || call.Name != d.Activity || it.nargs >= 0 && len(call.ArgTypes) != it.nargs {
			return j.deliverEarlier(p, nd)
		}
		name, types := call.Name, call.ArgTypes
		d.ArgTypes, it.types = types, typesConfirmed
		for k := p + 1; k < len(j.items); k++ {
			o := &j.items[k]
			if od := &o.ev; od.Kind == durable.EventActivityScheduled && o.types == typesUnknown && od.Activity == name && od.Local == d.Local && (o.nargs < 0 || o.nargs == len(types)) {
				od.ArgTypes, o.types = types, typesGuessed
			}
		}
		return true
	}
	return j.deliverEarlier(p, nd)
}

// deliverEarlier handles a command the code does not issue yet because it
// waits for a later inbound event of the same workflow task: that event is
// delivered first.
func (j *Journal) deliverEarlier(p int, nd *durable.NonDeterminismError) bool {
	it := &j.items[p]
	if !durable.InboundEvent(it.ev.Kind) && nd.Kind == durable.DivergenceMissingCommand {
		for q := p + 1; q < len(j.items) && j.items[q].batch == it.batch; q++ {
			if durable.InboundEvent(j.items[q].ev.Kind) {
				moved := j.items[q]
				copy(j.items[p+1:q+1], j.items[p:q])
				j.items[p] = moved
				return true
			}
		}
	}
	return false
}

// foundCall is the activity call the code made where the journal
// diverged, nil when the code made none there.
func foundCall(nd *durable.NonDeterminismError) *durable.Command {
	if nd.Found == nil || nd.Found.Kind != durable.EventActivityScheduled {
		return nil
	}
	return nd.Found
}

// divergence describes a non-determinism error in the history's terms,
// from its typed fields (never from the runtime's message text).
func (j *Journal) divergence(nd *durable.NonDeterminismError) *Divergence {
	p := int(nd.Seq) - 1
	if p < 0 || p >= len(j.items) {
		// Version outside the supported range: find its marker.
		if nd.Kind == durable.DivergenceVersion && nd.Expected != nil {
			for _, it := range j.items {
				if it.ev.Kind == durable.EventVersion && it.ev.Name == nd.Expected.Name {
					return &Divergence{EventID: it.src.EventID, EventType: it.src.EventType, History: it.src.Desc, Code: codeText(nd), Err: nd}
				}
			}
		}
		return &Divergence{History: nd.Expected.String(), Code: codeText(nd), Err: nd}
	}
	it := j.items[p]
	d := &Divergence{EventID: it.src.EventID, EventType: it.src.EventType, History: it.src.Desc, Code: codeText(nd), Err: nd}
	if nd.Kind == durable.DivergenceExtraCommand {
		d.History = "no further command before " + it.src.Desc
	}
	if nd.Kind != durable.DivergenceMismatch || nd.Found == nil || nd.Expected == nil || nd.Found.Kind != nd.Expected.Kind {
		return d
	}
	e, f := nd.Expected, nd.Found
	switch e.Kind {
	case durable.EventActivityScheduled:
		if f.Name != e.Name {
			break
		}
		switch {
		case it.nargs >= 0 && len(f.ArgTypes) != it.nargs:
			d.Code += fmt.Sprintf(" (%d arguments; the history has %d)", len(f.ArgTypes), it.nargs)
		case e.Local && !f.Local:
			d.Code += " (not as a local activity)"
		case !e.Local && f.Local:
			d.Code += " (as a local activity)"
		case e.Args != nil && f.Args != nil && !sameJSON(e.Args, f.Args):
			d.Code += " with " + compact(f.Args, true) + " (other argument values)"
		default:
			d.Code += " (with other argument types than at its first call)"
		}
	case durable.EventChildStarted:
		switch {
		case f.Name != e.Name:
		case e.Args != nil && !sameJSON(e.Args, orEmpty(f.Args)):
			d.Code += " with " + compact(orEmpty(f.Args), true) + " (other arguments)"
		case e.WorkflowID != "" && f.WorkflowID != e.WorkflowID:
			d.Code += fmt.Sprintf(" as %s (another workflow ID)", f.WorkflowID)
		}
	case durable.EventContinuedAsNew:
		if f.Name == e.Name && e.Args != nil && !sameJSON(e.Args, orEmpty(f.Args)) {
			d.Code += " with " + compact(orEmpty(f.Args), true) + " (other arguments)"
		}
	case durable.EventExternalSignaled:
		if f.Name == e.Name && f.WorkflowID == e.WorkflowID && e.Args != nil && !sameJSON(e.Args, f.Args) {
			d.Code += " with " + compact(f.Args, false) + " (another argument)"
		}
	}
	return d
}

// codeText renders what the code did at a divergence.
func codeText(nd *durable.NonDeterminismError) string {
	switch nd.Kind {
	case durable.DivergenceMissingCommand:
		return "nothing: every coroutine waits"
	case durable.DivergenceUnexpectedEvent:
		return "nothing waits for it: " + nd.Reason
	case durable.DivergenceVersion:
		if nd.Found != nil {
			return fmt.Sprintf("Version(%q) %s", nd.Found.Name, nd.Reason)
		}
	}
	return nd.Found.String()
}

// orEmpty is an argument list, [] when there is none.
func orEmpty(args json.RawMessage) json.RawMessage {
	if len(args) == 0 || string(args) == "null" {
		return json.RawMessage("[]")
	}
	return args
}

// ending describes a difference in how the run ends.
func (j *Journal) ending(nd *durable.NonDeterminismError) *Divergence {
	last := j.items[len(j.items)-1]
	d := &Divergence{EventID: last.src.EventID, EventType: last.src.EventType, History: last.src.Desc, Err: nd}
	switch {
	case nd.Kind == durable.DivergenceResult:
		d.Code = fmt.Sprintf("result differs: journal %s, code %s", nd.Expected.Result, nd.Found.Result)
	case nd.Found == nil:
		d.Code = fmt.Sprintf("%s, but the code has not returned", nd.Expected.Status)
	default:
		d.Code = fmt.Sprintf("%s, the code ends %s", nd.Expected.Status, nd.Found.Status)
	}
	return d
}

// failure describes a replay that stopped for another reason than a
// divergence: the code panicked, or the journal could not be read.
func (j *Journal) failure(err error) *Divergence {
	last := j.items[len(j.items)-1]
	d := &Divergence{EventID: last.src.EventID, EventType: last.src.EventType, History: last.src.Desc, Code: err.Error(), Err: err}
	var pe *durable.PanicError
	if errors.As(err, &pe) {
		d.EventID, d.EventType, d.History = 0, "", "no panic"
		d.Code = "panicked: " + pe.Value
	}
	return d
}

// sameJSON reports whether two JSON texts encode the same value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}
