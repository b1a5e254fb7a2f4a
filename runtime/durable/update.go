package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// UpdateOptions configure an update handler.
type UpdateOptions struct {
	// Validator, when set, is a func([ctx,] args...) error with the
	// handler's parameters. It runs before the update is accepted, must not
	// block, and a rejected update (an error) leaves no trace in the journal.
	Validator any
}

// ErrUpdateRejected marks an Engine.Update error that comes from the
// validator (or from a missing handler): the update left no trace. The
// error reads as the validator's own, which it wraps for errors.As.
var ErrUpdateRejected = errors.New("durable: update rejected")

type rejectedError struct{ err error }

func (e *rejectedError) Error() string        { return e.err.Error() }
func (e *rejectedError) Unwrap() error        { return e.err }
func (e *rejectedError) Is(target error) bool { return target == ErrUpdateRejected }

// updateHandler is a registered update handler.
type updateHandler struct {
	handler   *funcDef
	validator *funcDef
}

// SetUpdateHandler registers a handler for updates named name
// (workflow.SetUpdateHandlerWithOptions). handler is a
// func(ctx, args...) (R, error) or func(ctx, args...) error and runs as a
// workflow coroutine: it may call activities, sleep and wait.
func SetUpdateHandler(ctx context.Context, name string, handler any, options ...UpdateOptions) error {
	in := instanceOf(ctx, "SetUpdateHandler")
	var opts UpdateOptions
	if len(options) > 0 {
		opts = options[0]
	}
	v := reflect.ValueOf(handler)
	if handler == nil || v.Kind() != reflect.Func {
		return fmt.Errorf("durable.SetUpdateHandler %q: handler must be a function, got %T", name, handler)
	}
	h, err := newFuncDef("update", name, v, true)
	if err != nil {
		return err
	}
	u := &updateHandler{handler: h}
	if opts.Validator != nil {
		vv := reflect.ValueOf(opts.Validator)
		if vv.Kind() != reflect.Func {
			return fmt.Errorf("durable.SetUpdateHandler %q: validator must be a function, got %T", name, opts.Validator)
		}
		if u.validator, err = newFuncDef("update validator", name, vv, false); err != nil {
			return err
		}
		if u.validator.result != nil {
			return fmt.Errorf("durable.SetUpdateHandler %q: validator must return only an error", name)
		}
	}
	in.updates[name] = u
	return nil
}

// AllHandlersFinished reports whether no update handler is running, so
// that a workflow can wait for them before it returns:
// durable.Await(ctx, func() bool { return durable.AllHandlersFinished(ctx) }).
func AllHandlersFinished(ctx context.Context) bool {
	return instanceOf(ctx, "AllHandlersFinished").extra.runningUpdates == 0
}

type updateRequest struct {
	id    string
	name  string
	args  []any
	reply chan updateReply
}

type updateReply struct {
	value json.RawMessage
	typ   reflect.Type // the handler's result type, nil when it has none
	err   error
}

// validate runs an update's validator against the current state,
// through the interceptors when there are (with the arguments decoded into
// the handler's types, as ExecuteUpdate gets them).
func (in *instance) validate(name string, args []any) error {
	if in.icptIn == nil {
		return in.validateDirect(name, args)
	}
	if u := in.updates[name]; u != nil {
		raw, err := encodeArgs(args)
		if err != nil {
			return fmt.Errorf("durable: update %q: arguments: %w", name, err)
		}
		vals, err := decodeArgs(u.handler, raw)
		if err != nil {
			return err
		}
		args = make([]any, len(vals))
		for i, v := range vals {
			args[i] = v.Interface()
		}
	}
	return in.icptIn.ValidateUpdate(context.WithoutCancel(in.rootCtx), &UpdateInput{Name: name, Args: args})
}

// validateDirect runs an update's validator.
func (in *instance) validateDirect(name string, args []any) error {
	u := in.updates[name]
	if u == nil {
		return fmt.Errorf("durable: run %s has no update handler %q", in.runID, name)
	}
	if u.validator == nil {
		return nil
	}
	_, err := callHandler(context.WithoutCancel(in.rootCtx), u.validator, args)
	return err
}

// validateRaw runs the validator of an update whose arguments are
// encoded (a JSON array), as it arrived through the inbox.
func (in *instance) validateRaw(name string, raw json.RawMessage) error {
	var parts []json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &parts); err != nil {
			return fmt.Errorf("durable: update %q: arguments: %w", name, err)
		}
	}
	args := make([]any, len(parts))
	for i, p := range parts {
		args[i] = p
	}
	return in.validate(name, args)
}

// onUpdateRequest validates an update sent in-process and, if accepted,
// journals it; the reply goes out once its result is committed.
func (in *instance) onUpdateRequest(r *updateRequest) {
	if err := in.validate(r.name, r.args); err != nil {
		r.reply <- updateReply{err: &rejectedError{err}}
		return
	}
	raw, err := encodeArgs(r.args)
	if err != nil {
		r.reply <- updateReply{err: err}
		return
	}
	in.extra.updateReplies[r.id] = r.reply
	in.inbound(journal.UpdateAccepted, &journal.UpdateData{Update: r.id, Name: r.name, Args: raw})
}

// onUpdateAccepted runs an accepted update's handler as a coroutine.
func (in *instance) onUpdateAccepted(d *journal.UpdateData) {
	u := in.updates[d.Name]
	finish := func(result json.RawMessage, err error) {
		in.extra.runningUpdates--
		data := &journal.ResultData{Update: d.Update, Result: result, Error: toFailure(err)}
		in.command(journal.UpdateCompleted, data)
		if reply := in.extra.updateReplies[d.Update]; reply != nil {
			delete(in.extra.updateReplies, d.Update)
			var typ reflect.Type
			if u != nil {
				typ = u.handler.result
			}
			in.afterCommit = append(in.afterCommit, func() { reply <- updateReply{value: result, typ: typ, err: err} })
		}
	}
	in.extra.runningUpdates++
	in.sched.spawn("update "+d.Name, func() {
		if u == nil {
			finish(nil, fmt.Errorf("durable: run %s has no update handler %q", in.runID, d.Name))
			return
		}
		vals, err := decodeArgs(u.handler, d.Args)
		if err != nil {
			finish(nil, err)
			return
		}
		if in.icptIn != nil {
			args := make([]any, len(vals))
			for i, v := range vals {
				args[i] = v.Interface()
			}
			res, err := in.icptIn.ExecuteUpdate(in.rootCtx, &UpdateInput{Name: d.Name, Args: args})
			if err != nil {
				finish(nil, err)
				return
			}
			raw, err := encodeValue(res)
			finish(raw, err)
			return
		}
		out := u.handler.fn.Call(append([]reflect.Value{reflect.ValueOf(in.rootCtx)}, vals...))
		if e := out[len(out)-1].Interface(); e != nil {
			finish(nil, e.(error))
			return
		}
		var res any
		if u.handler.result != nil {
			res = out[0].Interface()
		}
		raw, err := encodeValue(res)
		finish(raw, err)
	})
}

// Update sends an update to the open run of a workflow ID and returns the
// handler's result once it is journaled. The validator (if any) runs first;
// a rejected update returns the validator's error and leaves no trace.
func (e *Engine) Update(ctx context.Context, id, name string, args ...any) (Value, error) {
	run, err := e.findOpenRun(ctx, id, "", fmt.Sprintf("Update %s %q", id, name))
	if err != nil {
		return nil, err
	}
	updateID := newID()
	what := fmt.Sprintf("update %q of %s", name, id)
	if in := e.instance(run.RunID); in != nil {
		reply := make(chan updateReply, 1)
		if in.post(&updateRequest{id: updateID, name: name, args: args, reply: reply}) {
			select {
			case r := <-reply:
				if !errors.Is(r.err, errRunMoved) {
					if r.err != nil {
						return nil, r.err
					}
					return rawValue{raw: r.value, what: what, typ: r.typ}, nil
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	// The run is not loaded here: deliver the update through its inbox and
	// wait for the result. The run's worker validates it as it takes it;
	// when this process has the workflow's code, a check against the
	// replayed journal first rejects what is already invalid without
	// writing anything.
	if e.reg.workflow(run.Workflow) != nil {
		if err := e.validateByReplay(ctx, run, name, args); err != nil {
			return nil, &rejectedError{err}
		}
	}
	raw, err := encodeArgs(args)
	if err != nil {
		return nil, fmt.Errorf("durable: Update %s %q: %w", id, name, err)
	}
	data := journal.Encode(&journal.UpdateData{Update: updateID, Name: name, Args: raw})
	item, err := e.deliverOnce(ctx, &store.DeliverParams{RunID: run.RunID, Kind: inboxUpdate, Name: name, Data: data}, fmt.Sprintf("Update %s %q", id, name))
	if errors.Is(err, ErrUnavailable) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("durable: Update %s %q: %w", id, name, err)
	}
	e.nudge(item.RunID)
	return e.awaitUpdate(ctx, run.RunID, updateID, what)
}

func (e *Engine) validateByReplay(ctx context.Context, run *store.Run, name string, args []any) error {
	if e.reg.workflow(run.Workflow) == nil {
		return fmt.Errorf("durable: Update %q: %w", name, &NotRegisteredError{Kind: "workflow", Name: run.Workflow, why: "the update cannot be validated"})
	}
	var events []store.Event
	err := e.retryClient(ctx, fmt.Sprintf("Update %s %q", run.WorkflowID, name), func(ctx context.Context, _ int) (err error) {
		events, err = e.store.LoadJournal(ctx, run.RunID, 0)
		return err
	})
	if err != nil {
		return err
	}
	in, err := e.rebuild(run, events, false)
	if err != nil {
		return err
	}
	defer in.teardown()
	if in.halt != nil {
		return in.halt
	}
	return in.validate(name, args)
}

// awaitUpdate polls a run's journal for an update's completion.
func (e *Engine) awaitUpdate(ctx context.Context, runID, updateID, what string) (Value, error) {
	var after int64
	backoff := 2 * time.Millisecond
	closed := false
	for {
		var events []store.Event
		err := e.retryClient(ctx, what, func(ctx context.Context, _ int) (err error) {
			events, err = e.store.LoadJournal(ctx, runID, after)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			after = ev.Seq
			if ev.Kind != journal.UpdateCompleted && ev.Kind != journal.UpdateRejected {
				continue
			}
			d, err := journal.Decode(ev.Kind, ev.Data)
			if err != nil {
				continue
			}
			rd := d.(*journal.ResultData)
			if rd.Update == updateID && ev.Kind == journal.UpdateRejected {
				return nil, &rejectedError{fromFailure(rd.Error)}
			}
			if rd.Update == updateID {
				if rd.Error != nil {
					return nil, fromFailure(rd.Error)
				}
				return rawValue{raw: rd.Result, what: what}, nil
			}
		}
		run, err := e.store.GetRun(ctx, runID)
		if err == nil && !run.Status.Open() && len(events) == 0 {
			// The run may have closed in the commit that completed the
			// update, after the journal was read: read it once more
			// before giving up.
			if closed {
				return nil, fmt.Errorf("durable: %s: the run closed before the update completed", what)
			}
			closed = true
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
			backoff = min(2*backoff, e.cfg.poll)
		}
	}
}
