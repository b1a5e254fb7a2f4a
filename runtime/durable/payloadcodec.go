package durable

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/durablego/toolkit/runtime/store"
)

// PayloadCodec transforms the bytes the engine stores, for example to
// encrypt or compress them, as a Temporal converter.PayloadCodec does for
// payloads. Encode runs on every write of user data to the store and
// Decode on every read, so nothing else changes: workflow and activity code
// still see their JSON values.
//
// What it sees is the engine's JSON: a journal event (with the arguments
// and result it carries), an activity task (arguments and options), its
// heartbeat details, an inbox item (signal, update and result payloads),
// and a run's input, result and error. What the store needs to find and
// order its records stays in plaintext: IDs, workflow and activity kinds,
// statuses, queues, times and lease owners.
//
// Decode must reverse Encode for every value Encode ever returned, also
// after a restart and in other processes sharing the store: keep the keys
// an encrypting codec used as long as data they encoded may be read (see
// docs/payload-codecs.md on key rotation). Both may be called concurrently.
// ctx is the context of the store call, for codecs that ask a key service.
type PayloadCodec interface {
	Encode(ctx context.Context, plain []byte) ([]byte, error)
	Decode(ctx context.Context, encoded []byte) ([]byte, error)
}

// WithPayloadCodec makes the engine encode with c what it writes to the
// store and decode what it reads (see PayloadCodec). Values the store
// already holds without a codec (written before c was set) are read as
// they are, so a codec can be added to an existing store; values written
// with a codec cannot be read without it. Every engine, worker or client,
// that opens the store needs the same codec.
func WithPayloadCodec(c PayloadCodec) Option {
	return optionFunc(func(cfg *config) { cfg.codec = c })
}

// codecMarker starts every value a PayloadCodec encoded. The engine's own
// values are JSON, which never starts with a NUL byte, so a value without
// the marker was written without a codec and is read as it is. The digit
// is the format's version.
const codecMarker = "\x00DC1"

// ErrPayloadDecode is wrapped by the error of a store read whose payload
// the engine's PayloadCodec could not decode (wrong key, corrupt data); the
// error names the run and the record.
var ErrPayloadDecode = errors.New("durable: payload codec cannot decode a stored value")

// NewCodecStore returns st with c applied: values are encoded on their way
// into st and decoded on their way out (see PayloadCodec). The optional
// store interfaces the engine uses (store.Notifier, store.RunLoader,
// store.Exclusive, store.RunCounter, close and commit watching) work
// through it. It implements store.RunLoader only when st does; the others
// it implements always, and where st lacks them it answers as their
// absence would (Subscribe never notifies, Exclusive is false, runs are
// counted by listing and their statuses read one by one, commit watching
// is refused). Open and New apply WithPayloadCodec's codec this way;
// NewCodecStore is for callers that stack their own store wrappers above
// the codec, as runtime/durabletest does.
func NewCodecStore(st store.Store, c PayloadCodec) store.Store {
	cs := &codecStore{Store: st, codec: c}
	if _, ok := st.(store.RunLoader); ok {
		return &codecLoaderStore{cs}
	}
	return cs
}

// codecLoaderStore is a codecStore over a store.RunLoader, which it is
// too: a store that loads runs with their claim keeps doing so, and one
// that does not is not made to look as if it did.
type codecLoaderStore struct{ *codecStore }

// codecStore is the store wrapper of NewCodecStore. It never changes the
// caller's params or records: encoded values go into copies.
type codecStore struct {
	store.Store
	codec PayloadCodec
}

func (s *codecStore) encode(ctx context.Context, b []byte, what string) ([]byte, error) {
	if len(b) == 0 {
		return b, nil
	}
	enc, err := s.codec.Encode(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("durable: encode %s: %w", what, err)
	}
	out := make([]byte, 0, len(codecMarker)+len(enc))
	return append(append(out, codecMarker...), enc...), nil
}

// notDecoded explains err, the failure to read stored bytes b, when b was
// written through a payload codec that the reader was not given: an
// engine opened without WithPayloadCodec on a store that has one.
func notDecoded(b []byte, err error) error {
	if bytes.HasPrefix(b, []byte(codecMarker)) {
		return fmt.Errorf("%w: the value was written through a payload codec, which this engine was not given (open it with durable.WithPayloadCodec)", ErrPayloadDecode)
	}
	return err
}

func (s *codecStore) decode(ctx context.Context, b []byte, what func() string) ([]byte, error) {
	if !bytes.HasPrefix(b, []byte(codecMarker)) {
		return b, nil // written without a codec
	}
	dec, err := s.codec.Decode(ctx, b[len(codecMarker):])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPayloadDecode, what(), err)
	}
	return dec, nil
}

// encodeRun returns a copy of r with its input, result and error encoded.
func (s *codecStore) encodeRun(ctx context.Context, r *store.Run) (*store.Run, error) {
	if r == nil {
		return nil, nil
	}
	c := *r
	what := "run " + r.RunID
	var err error
	if c.Input, err = s.encode(ctx, r.Input, what+" input"); err != nil {
		return nil, err
	}
	if c.Result, err = s.encode(ctx, r.Result, what+" result"); err != nil {
		return nil, err
	}
	if c.Error, err = s.encode(ctx, r.Error, what+" error"); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeRun decodes r's input, result and error in place (r is the
// store's fresh record).
func (s *codecStore) decodeRun(ctx context.Context, r *store.Run) error {
	if r == nil {
		return nil
	}
	var err error
	for _, f := range []struct {
		name string
		v    *[]byte
	}{{"input", &r.Input}, {"result", &r.Result}, {"error", &r.Error}} {
		if *f.v, err = s.decode(ctx, *f.v, func() string { return "run " + r.RunID + " (" + r.Workflow + ") " + f.name }); err != nil {
			return err
		}
	}
	return nil
}

func (s *codecStore) encodeEvents(ctx context.Context, runID string, first int64, evs []store.Event) ([]store.Event, error) {
	if len(evs) == 0 {
		return evs, nil
	}
	out := make([]store.Event, len(evs))
	for i, ev := range evs {
		out[i] = ev
		seq := ev.Seq
		if seq == 0 {
			seq = first + int64(i)
		}
		var err error
		if out[i].Data, err = s.encode(ctx, ev.Data, fmt.Sprintf("run %s event %d (%s)", runID, seq, ev.Kind)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *codecStore) decodeEvents(ctx context.Context, runID string, evs []store.Event) error {
	for i := range evs {
		ev := &evs[i]
		var err error
		if ev.Data, err = s.decode(ctx, ev.Data, func() string { return fmt.Sprintf("run %s event %d (%s)", runID, ev.Seq, ev.Kind) }); err != nil {
			return err
		}
	}
	return nil
}

func (s *codecStore) encodeTasks(ctx context.Context, tasks []*store.Task) ([]*store.Task, error) {
	if len(tasks) == 0 {
		return tasks, nil
	}
	out := make([]*store.Task, len(tasks))
	for i, t := range tasks {
		c := *t
		var err error
		if c.Data, err = s.encode(ctx, t.Data, "task "+t.ID+" of run "+t.RunID); err != nil {
			return nil, err
		}
		if c.Details, err = s.encode(ctx, t.Details, "heartbeat details of task "+t.ID+" of run "+t.RunID); err != nil {
			return nil, err
		}
		out[i] = &c
	}
	return out, nil
}

func (s *codecStore) decodeTasks(ctx context.Context, tasks []*store.Task) error {
	for _, t := range tasks {
		var err error
		if t.Data, err = s.decode(ctx, t.Data, func() string { return "task " + t.ID + " of run " + t.RunID }); err != nil {
			return err
		}
		if t.Details, err = s.decode(ctx, t.Details, func() string { return "heartbeat details of task " + t.ID + " of run " + t.RunID }); err != nil {
			return err
		}
	}
	return nil
}

func (s *codecStore) encodeDeliver(ctx context.Context, p *store.DeliverParams) (*store.DeliverParams, error) {
	if p == nil {
		return nil, nil
	}
	c := *p
	target := p.RunID
	if target == "" {
		target = p.WorkflowID
	}
	var err error
	if c.Data, err = s.encode(ctx, p.Data, "inbox item "+p.Kind+" "+p.Name+" for "+target); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *codecStore) decodeInbox(ctx context.Context, items []store.InboxItem) error {
	for i := range items {
		it := &items[i]
		var err error
		if it.Data, err = s.decode(ctx, it.Data, func() string {
			return fmt.Sprintf("run %s inbox item %d (%s %s)", it.RunID, it.ID, it.Kind, it.Name)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *codecStore) encodeCreate(ctx context.Context, p *store.CreateRunParams) (*store.CreateRunParams, error) {
	c := *p
	var err error
	if c.Run, err = s.encodeRun(ctx, p.Run); err != nil {
		return nil, err
	}
	runID := ""
	if p.Run != nil {
		runID = p.Run.RunID
	}
	if c.Events, err = s.encodeEvents(ctx, runID, 1, p.Events); err != nil {
		return nil, err
	}
	if c.Tasks, err = s.encodeTasks(ctx, p.Tasks); err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateRun encodes the run's input, result, error, events and tasks.
func (s *codecStore) CreateRun(ctx context.Context, p *store.CreateRunParams) error {
	c, err := s.encodeCreate(ctx, p)
	if err != nil {
		return err
	}
	return s.Store.CreateRun(ctx, c)
}

func (s *codecStore) GetRun(ctx context.Context, runID string) (*store.Run, error) {
	r, err := s.Store.GetRun(ctx, runID)
	if err != nil {
		return r, err
	}
	return r, s.decodeRun(ctx, r)
}

func (s *codecStore) CurrentRun(ctx context.Context, workflowID string) (*store.Run, error) {
	r, err := s.Store.CurrentRun(ctx, workflowID)
	if err != nil {
		return r, err
	}
	return r, s.decodeRun(ctx, r)
}

func (s *codecStore) decodeRuns(ctx context.Context, runs []*store.Run, err error) ([]*store.Run, error) {
	if err != nil {
		return runs, err
	}
	for _, r := range runs {
		if err := s.decodeRun(ctx, r); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

func (s *codecStore) ListRuns(ctx context.Context, p *store.ListRunsParams) ([]*store.Run, error) {
	runs, err := s.Store.ListRuns(ctx, p)
	return s.decodeRuns(ctx, runs, err)
}

// ClaimRuns decodes the claimed runs. A run whose input, result or error
// does not decode comes without them rather than failing the whole claim,
// which would hold up every other run: the engine works a claimed run from
// its journal, whose reading reports the error and gives the run back.
func (s *codecStore) ClaimRuns(ctx context.Context, p *store.ClaimRunsParams) ([]*store.Run, error) {
	runs, err := s.Store.ClaimRuns(ctx, p)
	if err != nil {
		return runs, err
	}
	for _, r := range runs {
		s.decodeClaimed(ctx, r)
	}
	return runs, nil
}

// decodeClaimed decodes a claimed run, clearing what does not decode (see
// ClaimRuns); it reports whether all of it decoded.
func (s *codecStore) decodeClaimed(ctx context.Context, r *store.Run) bool {
	if err := s.decodeRun(ctx, r); err != nil {
		r.Input, r.Result, r.Error = nil, nil, nil
		return false
	}
	return true
}

func (s *codecStore) LoadJournal(ctx context.Context, runID string, afterSeq int64) ([]store.Event, error) {
	evs, err := s.Store.LoadJournal(ctx, runID, afterSeq)
	if err != nil {
		return evs, err
	}
	if err := s.decodeEvents(ctx, runID, evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// Commit encodes the appended events, the run's new result and error, new
// tasks, created runs and deliveries to other runs.
func (s *codecStore) Commit(ctx context.Context, p *store.CommitParams) error {
	c := *p
	var err error
	if c.Events, err = s.encodeEvents(ctx, p.RunID, p.ExpectLen+1, p.Events); err != nil {
		return err
	}
	if c.CreateTasks, err = s.encodeTasks(ctx, p.CreateTasks); err != nil {
		return err
	}
	if p.Update != nil {
		u := *p.Update
		if u.Result, err = s.encode(ctx, p.Update.Result, "run "+p.RunID+" result"); err != nil {
			return err
		}
		if u.Error, err = s.encode(ctx, p.Update.Error, "run "+p.RunID+" error"); err != nil {
			return err
		}
		c.Update = &u
	}
	if len(p.CreateRuns) > 0 {
		c.CreateRuns = make([]*store.CreateRunParams, len(p.CreateRuns))
		for i, cr := range p.CreateRuns {
			if c.CreateRuns[i], err = s.encodeCreate(ctx, cr); err != nil {
				return err
			}
		}
	}
	if len(p.Deliver) > 0 {
		c.Deliver = make([]*store.DeliverParams, len(p.Deliver))
		for i, d := range p.Deliver {
			if c.Deliver[i], err = s.encodeDeliver(ctx, d); err != nil {
				return err
			}
		}
	}
	return s.Store.Commit(ctx, &c)
}

func (s *codecStore) SetRunStatus(ctx context.Context, p *store.SetRunStatusParams) error {
	c := *p
	var err error
	if c.Error, err = s.encode(ctx, p.Error, "run "+p.RunID+" error"); err != nil {
		return err
	}
	return s.Store.SetRunStatus(ctx, &c)
}

// Deliver encodes the item's data and returns the item with it decoded.
func (s *codecStore) Deliver(ctx context.Context, p *store.DeliverParams) (*store.InboxItem, error) {
	c, err := s.encodeDeliver(ctx, p)
	if err != nil {
		return nil, err
	}
	item, err := s.Store.Deliver(ctx, c)
	if err != nil || item == nil {
		return item, err
	}
	out := *item
	out.Data = p.Data
	return &out, nil
}

func (s *codecStore) ListInbox(ctx context.Context, runID string) ([]store.InboxItem, error) {
	items, err := s.Store.ListInbox(ctx, runID)
	if err != nil {
		return items, err
	}
	if err := s.decodeInbox(ctx, items); err != nil {
		return nil, err
	}
	return items, nil
}

func (s *codecStore) ClaimTasks(ctx context.Context, p *store.ClaimTasksParams) ([]*store.Task, error) {
	tasks, err := s.Store.ClaimTasks(ctx, p)
	if err != nil {
		return tasks, err
	}
	if err := s.decodeTasks(ctx, tasks); err != nil {
		return nil, err
	}
	return tasks, nil
}

func (s *codecStore) ListTasks(ctx context.Context, runID string) ([]*store.Task, error) {
	tasks, err := s.Store.ListTasks(ctx, runID)
	if err != nil {
		return tasks, err
	}
	if err := s.decodeTasks(ctx, tasks); err != nil {
		return nil, err
	}
	return tasks, nil
}

// UpdateTask encodes heartbeat details (nil still leaves them unchanged).
func (s *codecStore) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	if len(p.Details) == 0 {
		return s.Store.UpdateTask(ctx, p)
	}
	c := *p
	var err error
	if c.Details, err = s.encode(ctx, p.Details, "heartbeat details of task "+p.ID); err != nil {
		return err
	}
	return s.Store.UpdateTask(ctx, &c)
}

// CompleteTask encodes the result delivered to the task's run.
func (s *codecStore) CompleteTask(ctx context.Context, p *store.CompleteTaskParams) error {
	if p.Result == nil {
		return s.Store.CompleteTask(ctx, p)
	}
	c, r := *p, *p.Result
	var err error
	if r.Data, err = s.encode(ctx, p.Result.Data, "result of task "+p.ID); err != nil {
		return err
	}
	c.Result = &r
	return s.Store.CompleteTask(ctx, &c)
}

// ExpireTask encodes the result delivered to the task's run and decodes
// the task it returns.
func (s *codecStore) ExpireTask(ctx context.Context, p *store.ExpireTaskParams) (bool, *store.Task, error) {
	c := *p
	if p.Result != nil {
		r := *p.Result
		var err error
		if r.Data, err = s.encode(ctx, p.Result.Data, "result of task "+p.ID); err != nil {
			return false, nil, err
		}
		c.Result = &r
	}
	expired, t, err := s.Store.ExpireTask(ctx, &c)
	if err != nil || t == nil {
		return expired, t, err
	}
	if err := s.decodeTasks(ctx, []*store.Task{t}); err != nil {
		return false, nil, err
	}
	return expired, t, nil
}

// Subscribe forwards the store's notifications (store.Notifier); a store
// without them gets a channel that stays silent, so the engine polls as it
// would on the bare store.
func (s *codecStore) Subscribe(ctx context.Context) (<-chan store.Notification, error) {
	if n, ok := s.Store.(store.Notifier); ok {
		return n.Subscribe(ctx)
	}
	ch := make(chan store.Notification)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

// ClaimAndLoadRuns forwards store.RunLoader, decoding what it loaded. A
// run whose fields, journal or inbox do not decode comes without them, so
// the engine reads them again with LoadJournal, which reports the error.
func (s *codecLoaderStore) ClaimAndLoadRuns(ctx context.Context, p *store.ClaimRunsParams) ([]*store.LoadedRun, error) {
	loaded, err := s.Store.(store.RunLoader).ClaimAndLoadRuns(ctx, p)
	if err != nil {
		return loaded, err
	}
	for _, lr := range loaded {
		if !s.decodeClaimed(ctx, lr.Run) || s.decodeEvents(ctx, lr.Run.RunID, lr.Journal) != nil || s.decodeInbox(ctx, lr.Inbox) != nil {
			lr.Journal, lr.Inbox, lr.TaskIDs = nil, nil, nil
		}
	}
	return loaded, nil
}

// CountRuns forwards store.RunCounter (counts need no decoding); a store
// without it is counted by listing, as the engine would list it.
func (s *codecStore) CountRuns(ctx context.Context, p *store.ListRunsParams) (map[store.RunStatus]int64, error) {
	if c, ok := s.Store.(store.RunCounter); ok {
		return c.CountRuns(ctx, p)
	}
	q := *p
	q.Statuses, q.Limit, q.Newest, q.AfterRunID = nil, 0, false, ""
	runs, err := s.Store.ListRuns(ctx, &q)
	if err != nil {
		return nil, err
	}
	out := map[store.RunStatus]int64{}
	for _, r := range runs {
		out[r.Status]++
	}
	return out, nil
}

// Exclusive forwards store.Exclusive.
func (s *codecStore) Exclusive() bool {
	ex, ok := s.Store.(store.Exclusive)
	return ok && ex.Exclusive()
}

// SettledRuns forwards the store's batch status read (runStatuser),
// decoding the runs; without it, it reads the runs one by one.
func (s *codecStore) SettledRuns(ctx context.Context, runIDs []string) ([]*store.Run, error) {
	if rs, ok := s.Store.(runStatuser); ok {
		runs, err := rs.SettledRuns(ctx, runIDs)
		if err != nil {
			return runs, err
		}
		for i, r := range runs {
			if s.decodeRun(ctx, r) != nil {
				// Reported as stuck, a status whose waiters read the run
				// again, so that the Get waiting for it reads it and
				// reports the decode error; failing the whole read would
				// leave every other Get of the batch to its poll interval.
				runs[i] = &store.Run{RunID: r.RunID, WorkflowID: r.WorkflowID, Workflow: r.Workflow, Status: store.StatusStuck}
			}
		}
		return runs, nil
	}
	var out []*store.Run
	for _, id := range runIDs {
		r, err := s.GetRun(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Status != store.StatusRunning {
			out = append(out, r)
		}
	}
	return out, nil
}

// WatchCommits forwards commitWatcher; a store without it says so.
func (s *codecStore) WatchCommits(ctx context.Context) (<-chan struct{}, error) {
	if cw, ok := s.Store.(commitWatcher); ok {
		return cw.WatchCommits(ctx)
	}
	return nil, errors.New("durable: store does not watch commits")
}

// Unwrap returns the store beneath the codec.
func (s *codecStore) Unwrap() store.Store { return s.Store }

// DescribeQueue forwards store.QueueDescriber (a queue's state holds no
// payloads).
func (s *codecStore) DescribeQueue(ctx context.Context, p *store.DescribeQueueParams) (*store.QueueDescription, error) {
	return describeQueue(ctx, s.Store, p)
}

// PayloadCodec returns the codec WithPayloadCodec gave the engine, or nil.
// Code that hands stored values to other systems in their encoded form
// (compat's Temporal histories, whose payloads Temporal's codecs encode)
// reads it here.
func (e *Engine) PayloadCodec() PayloadCodec { return e.cfg.codec }
