package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/durablego/toolkit/runtime/durable"
)

// ScheduleEngine is what ScheduleClient needs of the engine
// (*durable.Engine has it).
type ScheduleEngine interface {
	ScheduleClient() *durable.ScheduleClient
}

// ScheduleClient returns Temporal's client.ScheduleClient served by the
// durable engine's schedules (durable.ScheduleClient), for code that keeps
// Temporal's schedule types: converted code calls compat.ScheduleClient(c)
// where it called c.ScheduleClient(). Options and descriptions map field by
// field; what durable has no counterpart for is ignored on the way in
// (WorkflowTaskTimeout, typed and untyped search attributes of the
// schedule, versioning overrides, summaries, priorities) and left empty on
// the way out. Action arguments come back from Describe as json/plain
// payloads, as Temporal's do, and an Update sends them on unchanged.
func ScheduleClient(e ScheduleEngine) client.ScheduleClient {
	return &scheduleClient{c: e.ScheduleClient()}
}

type scheduleClient struct{ c *durable.ScheduleClient }

func (s *scheduleClient) Create(ctx context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	action, err := durableAction(o.Action)
	if err != nil {
		return nil, fmt.Errorf("create schedule %q: %w", o.ID, err)
	}
	opts := durable.ScheduleOptions{
		ID: o.ID, Spec: durableSpec(&o.Spec), Action: action,
		Overlap: durable.ScheduleOverlapPolicy(o.Overlap), CatchupWindow: o.CatchupWindow, PauseOnFailure: o.PauseOnFailure,
		Note: o.Note, Paused: o.Paused, RemainingActions: o.RemainingActions, TriggerImmediately: o.TriggerImmediately,
		Memo: o.Memo,
	}
	for _, b := range o.ScheduleBackfill {
		opts.ScheduleBackfill = append(opts.ScheduleBackfill, durable.ScheduleBackfill{Start: b.Start, End: b.End, Overlap: durable.ScheduleOverlapPolicy(b.Overlap)})
	}
	h, err := s.c.Create(ctx, opts)
	if errors.Is(err, durable.ErrScheduleAlreadyRunning) {
		return nil, temporal.ErrScheduleAlreadyRunning
	}
	if err != nil {
		return nil, err
	}
	return &scheduleHandle{h: h}, nil
}

func (s *scheduleClient) GetHandle(ctx context.Context, id string) client.ScheduleHandle {
	return &scheduleHandle{h: s.c.GetHandle(ctx, id)}
}

func (s *scheduleClient) List(ctx context.Context, o client.ScheduleListOptions) (client.ScheduleListIterator, error) {
	return &scheduleIterator{ctx: ctx, c: s.c, size: o.PageSize}, nil
}

// scheduleIterator pages through durable's schedule list.
type scheduleIterator struct {
	ctx     context.Context
	c       *durable.ScheduleClient
	size    int
	token   string
	fetched bool
	page    []*durable.ScheduleListEntry
	err     error
}

func (it *scheduleIterator) HasNext() bool {
	for len(it.page) == 0 && it.err == nil && (!it.fetched || it.token != "") {
		p, err := it.c.List(it.ctx, durable.ScheduleListOptions{PageSize: it.size, PageToken: it.token})
		it.fetched = true
		if err != nil {
			it.err = err
			break
		}
		it.page, it.token = p.Schedules, p.NextPageToken
	}
	return len(it.page) > 0 || it.err != nil
}

// errNoMoreSchedules is Next's error past a list's last entry.
var errNoMoreSchedules = errors.New("schedule list: no more entries")

func (it *scheduleIterator) Next() (*client.ScheduleListEntry, error) {
	if !it.HasNext() {
		return nil, errNoMoreSchedules
	}
	if it.err != nil {
		err := it.err
		it.err = nil
		it.token, it.fetched = "", true
		return nil, err
	}
	e := it.page[0]
	it.page = it.page[1:]
	spec := temporalSpec(e.Spec)
	entry := &client.ScheduleListEntry{
		ID: e.ID, Spec: &spec, Note: e.Note, Paused: e.Paused,
		RecentActions: temporalActions(e.RecentActions), NextActionTimes: e.NextActionTimes,
	}
	entry.WorkflowType.Name = e.WorkflowType
	return entry, nil
}

type scheduleHandle struct{ h *durable.ScheduleHandle }

func (h *scheduleHandle) GetID() string { return h.h.ID() }

func (h *scheduleHandle) Delete(ctx context.Context) error { return h.h.Delete(ctx) }

func (h *scheduleHandle) Backfill(ctx context.Context, o client.ScheduleBackfillOptions) error {
	var bs []durable.ScheduleBackfill
	for _, b := range o.Backfill {
		bs = append(bs, durable.ScheduleBackfill{Start: b.Start, End: b.End, Overlap: durable.ScheduleOverlapPolicy(b.Overlap)})
	}
	return h.h.Backfill(ctx, durable.ScheduleBackfillOptions{Backfill: bs})
}

func (h *scheduleHandle) Update(ctx context.Context, o client.ScheduleUpdateOptions) error {
	if o.DoUpdate == nil {
		return h.h.Update(ctx, durable.ScheduleUpdateOptions{})
	}
	return h.h.Update(ctx, durable.ScheduleUpdateOptions{DoUpdate: func(in durable.ScheduleUpdateInput) (*durable.ScheduleUpdate, error) {
		u, err := o.DoUpdate(client.ScheduleUpdateInput{Description: *temporalDescription(&in.Description)})
		if errors.Is(err, temporal.ErrSkipScheduleUpdate) {
			return nil, durable.ErrSkipScheduleUpdate
		}
		if err != nil || u == nil || u.Schedule == nil {
			return nil, err
		}
		s, err := durableSchedule(u.Schedule)
		if err != nil {
			return nil, err
		}
		return &durable.ScheduleUpdate{Schedule: s}, nil
	}})
}

func (h *scheduleHandle) Describe(ctx context.Context) (*client.ScheduleDescription, error) {
	d, err := h.h.Describe(ctx)
	if err != nil {
		return nil, err
	}
	return temporalDescription(d), nil
}

func (h *scheduleHandle) Trigger(ctx context.Context, o client.ScheduleTriggerOptions) error {
	return h.h.Trigger(ctx, durable.ScheduleTriggerOptions{Overlap: durable.ScheduleOverlapPolicy(o.Overlap)})
}

// Pause and Unpause keep the notes Temporal's Go SDK writes when none is
// given.
func (h *scheduleHandle) Pause(ctx context.Context, o client.SchedulePauseOptions) error {
	if o.Note == "" {
		o.Note = "Paused via Go SDK"
	}
	return h.h.Pause(ctx, durable.SchedulePauseOptions{Note: o.Note})
}

func (h *scheduleHandle) Unpause(ctx context.Context, o client.ScheduleUnpauseOptions) error {
	if o.Note == "" {
		o.Note = "Unpaused via Go SDK"
	}
	return h.h.Unpause(ctx, durable.ScheduleUnpauseOptions{Note: o.Note})
}

// durableAction maps Temporal's workflow action; payload arguments (from
// a Describe) go on as the JSON they hold.
func durableAction(a client.ScheduleAction) (durable.ScheduleWorkflowAction, error) {
	w, ok := a.(*client.ScheduleWorkflowAction)
	if !ok || w == nil {
		return durable.ScheduleWorkflowAction{}, fmt.Errorf("Action: a *client.ScheduleWorkflowAction is required, got %T", a)
	}
	out := durable.ScheduleWorkflowAction{
		ID: w.ID, Workflow: w.Workflow, Queue: w.TaskQueue,
		ExecutionTimeout: w.WorkflowExecutionTimeout, RunTimeout: w.WorkflowRunTimeout,
		Memo: w.Memo,
	}
	if p := w.RetryPolicy; p != nil {
		out.RetryPolicy = &durable.RetryPolicy{
			InitialInterval: p.InitialInterval, BackoffCoefficient: p.BackoffCoefficient, MaximumInterval: p.MaximumInterval,
			MaximumAttempts: int(p.MaximumAttempts), NonRetryableErrorTypes: p.NonRetryableErrorTypes,
		}
	}
	for _, arg := range w.Args {
		if p, ok := arg.(*commonpb.Payload); ok {
			arg = json.RawMessage(p.GetData())
		}
		out.Args = append(out.Args, arg)
	}
	return out, nil
}

func durableSchedule(s *client.Schedule) (*durable.Schedule, error) {
	a, err := durableAction(s.Action)
	if err != nil {
		return nil, err
	}
	out := &durable.Schedule{Action: a, Spec: durableSpec(s.Spec)}
	if p := s.Policy; p != nil {
		out.Policy = durable.SchedulePolicies{Overlap: durable.ScheduleOverlapPolicy(p.Overlap), CatchupWindow: p.CatchupWindow, PauseOnFailure: p.PauseOnFailure}
	}
	if st := s.State; st != nil {
		out.State = durable.ScheduleState{Note: st.Note, Paused: st.Paused, LimitedActions: st.LimitedActions, RemainingActions: st.RemainingActions}
	}
	return out, nil
}

func durableSpec(s *client.ScheduleSpec) durable.ScheduleSpec {
	if s == nil {
		return durable.ScheduleSpec{}
	}
	out := durable.ScheduleSpec{
		CronExpressions: s.CronExpressions, StartAt: s.StartAt, EndAt: s.EndAt, Jitter: s.Jitter, TimeZoneName: s.TimeZoneName,
		Calendars: durableCalendars(s.Calendars), Skip: durableCalendars(s.Skip),
	}
	for _, iv := range s.Intervals {
		out.Intervals = append(out.Intervals, durable.ScheduleIntervalSpec{Every: iv.Every, Offset: iv.Offset})
	}
	return out
}

func durableCalendars(cs []client.ScheduleCalendarSpec) []durable.ScheduleCalendarSpec {
	var out []durable.ScheduleCalendarSpec
	for _, c := range cs {
		out = append(out, durable.ScheduleCalendarSpec{
			Second: durableRanges(c.Second), Minute: durableRanges(c.Minute), Hour: durableRanges(c.Hour),
			DayOfMonth: durableRanges(c.DayOfMonth), Month: durableRanges(c.Month), Year: durableRanges(c.Year),
			DayOfWeek: durableRanges(c.DayOfWeek), Comment: c.Comment,
		})
	}
	return out
}

func durableRanges(rs []client.ScheduleRange) []durable.ScheduleRange {
	var out []durable.ScheduleRange
	for _, r := range rs {
		out = append(out, durable.ScheduleRange{Start: r.Start, End: r.End, Step: r.Step})
	}
	return out
}

func temporalSpec(s durable.ScheduleSpec) client.ScheduleSpec {
	out := client.ScheduleSpec{
		CronExpressions: s.CronExpressions, StartAt: s.StartAt, EndAt: s.EndAt, Jitter: s.Jitter, TimeZoneName: s.TimeZoneName,
		Calendars: temporalCalendars(s.Calendars), Skip: temporalCalendars(s.Skip),
	}
	for _, iv := range s.Intervals {
		out.Intervals = append(out.Intervals, client.ScheduleIntervalSpec{Every: iv.Every, Offset: iv.Offset})
	}
	return out
}

func temporalCalendars(cs []durable.ScheduleCalendarSpec) []client.ScheduleCalendarSpec {
	var out []client.ScheduleCalendarSpec
	for _, c := range cs {
		out = append(out, client.ScheduleCalendarSpec{
			Second: temporalRanges(c.Second), Minute: temporalRanges(c.Minute), Hour: temporalRanges(c.Hour),
			DayOfMonth: temporalRanges(c.DayOfMonth), Month: temporalRanges(c.Month), Year: temporalRanges(c.Year),
			DayOfWeek: temporalRanges(c.DayOfWeek), Comment: c.Comment,
		})
	}
	return out
}

func temporalRanges(rs []durable.ScheduleRange) []client.ScheduleRange {
	var out []client.ScheduleRange
	for _, r := range rs {
		out = append(out, client.ScheduleRange{Start: r.Start, End: r.End, Step: r.Step})
	}
	return out
}

func temporalActions(as []durable.ScheduleActionResult) []client.ScheduleActionResult {
	var out []client.ScheduleActionResult
	for _, a := range as {
		r := client.ScheduleActionResult{ScheduleTime: a.ScheduleTime, ActualTime: a.ActualTime}
		if x := a.StartWorkflowResult; x != nil {
			r.StartWorkflowResult = &client.ScheduleWorkflowExecution{WorkflowID: x.WorkflowID, FirstExecutionRunID: x.FirstRunID}
		}
		out = append(out, r)
	}
	return out
}

// temporalDescription maps a durable description to Temporal's.
func temporalDescription(d *durable.ScheduleDescription) *client.ScheduleDescription {
	s := d.Schedule
	a := s.Action
	name, _ := a.Workflow.(string)
	action := &client.ScheduleWorkflowAction{
		ID: a.ID, Workflow: name, TaskQueue: a.Queue,
		WorkflowExecutionTimeout: a.ExecutionTimeout, WorkflowRunTimeout: a.RunTimeout, Memo: a.Memo,
	}
	if p := a.RetryPolicy; p != nil {
		action.RetryPolicy = &temporal.RetryPolicy{
			InitialInterval: p.InitialInterval, BackoffCoefficient: p.BackoffCoefficient, MaximumInterval: p.MaximumInterval,
			MaximumAttempts: int32(p.MaximumAttempts), NonRetryableErrorTypes: p.NonRetryableErrorTypes,
		}
	}
	for _, arg := range a.Args {
		raw, err := json.Marshal(arg)
		if err != nil {
			raw = []byte("null")
		}
		action.Args = append(action.Args, jsonPayload(raw))
	}
	spec := temporalSpec(s.Spec)
	out := &client.ScheduleDescription{
		Schedule: client.Schedule{
			Action: action,
			Spec:   &spec,
			Policy: &client.SchedulePolicies{Overlap: enumspb.ScheduleOverlapPolicy(s.Policy.Overlap), CatchupWindow: s.Policy.CatchupWindow, PauseOnFailure: s.Policy.PauseOnFailure},
			State:  &client.ScheduleState{Note: s.State.Note, Paused: s.State.Paused, LimitedActions: s.State.LimitedActions, RemainingActions: s.State.RemainingActions},
		},
		Info: client.ScheduleInfo{
			NumActions: int(d.Info.NumActions), NumActionsMissedCatchupWindow: int(d.Info.NumActionsMissedCatchupWindow),
			NumActionsSkippedOverlap: int(d.Info.NumActionsSkippedOverlap),
			RecentActions:            temporalActions(d.Info.RecentActions), NextActionTimes: d.Info.NextActionTimes,
			CreatedAt: d.Info.CreatedAt, LastUpdateAt: d.Info.LastUpdateAt,
		},
		Memo: Memo(d.Memo),
	}
	for _, r := range d.Info.RunningWorkflows {
		out.Info.RunningWorkflows = append(out.Info.RunningWorkflows, client.ScheduleWorkflowExecution{WorkflowID: r.WorkflowID, FirstExecutionRunID: r.FirstRunID})
	}
	return out
}
