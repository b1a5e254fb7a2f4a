package durable_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/postgres"
	"github.com/durablego/toolkit/runtime/store/sqlite"
	"github.com/durablego/toolkit/runtime/store/storetest"
)

// aesCodec is an AES-GCM PayloadCodec: a random nonce, then the sealed
// bytes. Its calls are counted, so tests can tell it ran.
type aesCodec struct{ aead cipher.AEAD }

func newAESCodec(t *testing.T, key string) *aesCodec {
	t.Helper()
	block, err := aes.NewCipher([]byte(key))
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	return &aesCodec{aead: aead}
}

func (c *aesCodec) Encode(_ context.Context, plain []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return c.aead.Seal(nonce, nonce, plain, nil), nil
}

func (c *aesCodec) Decode(_ context.Context, enc []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(enc) < n {
		return nil, errors.New("aes: ciphertext too short")
	}
	return c.aead.Open(nil, enc[:n], enc[n:], nil)
}

const (
	codecKey      = "0123456789abcdef0123456789abcdef"
	codecOtherKey = "fedcba9876543210fedcba9876543210"
)

// The canaries are the user data of CodecOrder: none may appear in the
// store when a codec is set.
var codecCanaries = []string{
	"input-canary", "activity-canary", "heartbeat-canary", "signal-canary",
	"update-canary", "child-canary", "query-canary",
}

// CodecSeal records a heartbeat and returns its input, marked.
func CodecSeal(ctx context.Context, s string) (string, error) {
	durable.RecordHeartbeat(ctx, "heartbeat-canary "+s)
	return "activity-canary(" + s + ")", nil
}

// CodecChild returns its input, marked.
func CodecChild(ctx context.Context, s string) (string, error) {
	return "child-canary(" + s + ")", nil
}

// CodecOrder exercises every kind of stored user data: input, activity
// arguments, result and heartbeat, update, query, signal, child and
// continue-as-new. Its second round returns what the first gathered.
func CodecOrder(ctx context.Context, state string, round int) (string, error) {
	if round == 1 {
		return "done " + state, nil
	}
	if err := durable.SetQueryHandler(ctx, "state", func() (string, error) { return "query-canary " + state, nil }); err != nil {
		return "", err
	}
	updated := false
	err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, s string) (string, error) {
		state += " " + s
		updated = true
		return "added " + s, nil
	}, durable.UpdateOptions{})
	if err != nil {
		return "", err
	}
	if err := durable.Await(ctx, func() bool { return updated }); err != nil {
		return "", err
	}
	r, err := durable.Call[string](ctx, CodecSeal, state)
	if err != nil {
		return "", err
	}
	state += " " + r
	sig, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	state += " " + sig
	c, err := durable.Child[string](ctx, CodecChild, state)
	if err != nil {
		return "", err
	}
	return "", durable.ContinueAsNew(ctx, CodecOrder, c, 1)
}

// driveCodecOrder runs CodecOrder to its end through e's client calls and
// checks what each returns.
func driveCodecOrder(t *testing.T, e *durable.Engine, id string) {
	t.Helper()
	ctx := waitCtx(t)
	_, err := e.Start(ctx, durable.StartOptions{ID: id}, CodecOrder, "input-canary", 0)
	require.NoError(t, err)
	h, err := e.UpdateWorkflow(ctx, durable.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "add", Args: []any{"update-canary"}, WaitForStage: durable.UpdateStageCompleted})
	require.NoError(t, err)
	var added string
	require.NoError(t, h.Get(ctx, &added))
	require.Equal(t, "added update-canary", added)
	v, err := e.Query(ctx, id, "state")
	require.NoError(t, err)
	var q string
	require.NoError(t, v.Get(&q))
	require.Contains(t, q, "query-canary input-canary")
	require.Contains(t, q, "update-canary")
	require.NoError(t, e.Signal(ctx, id, "go", "signal-canary"))
	var out string
	require.NoError(t, e.Run(id).Get(ctx, &out))
	require.Equal(t, "done child-canary(input-canary update-canary activity-canary(input-canary update-canary) signal-canary)", out)
}

func registerCodecOrder(e *durable.Engine) {
	e.RegisterWorkflow(CodecOrder)
	e.RegisterWorkflow(CodecChild)
	e.RegisterActivity(CodecSeal)
}

// storeBytes returns the bytes of an SQLite store: the file and its WAL.
func storeBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		all = append(all, b...)
	}
	require.NotEmpty(t, all)
	return all
}

// heartbeatStore records the heartbeat details the engine writes, as the
// store receives them.
type heartbeatStore struct {
	store.Store
	details chan []byte
}

func (s *heartbeatStore) UpdateTask(ctx context.Context, p *store.UpdateTaskParams) error {
	if len(p.Details) > 0 {
		select {
		case s.details <- bytes.Clone(p.Details):
		default:
		}
	}
	return s.Store.UpdateTask(ctx, p)
}

func TestPayloadCodec(t *testing.T) {
	t.Parallel()

	open := func(t *testing.T, path string, opts ...durable.Option) *durable.Engine {
		t.Helper()
		opts = append([]durable.Option{durable.WithActivityTaskRows(true)}, opts...)
		e := openEngine(t, "sqlite:"+path, opts...)
		registerCodecOrder(e)
		return e
	}

	t.Run("PlaintextNeverReachesTheSQLiteFile", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "enc.db")
		e := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		driveCodecOrder(t, e, "order-1")
		verifyAll(t, e)
		require.NoError(t, e.Close())

		raw := storeBytes(t, path)
		for _, c := range codecCanaries {
			require.False(t, bytes.Contains(raw, []byte(c)), "%q is in the database file in plaintext", c)
		}
		// What the store needs stays readable: IDs and names.
		require.True(t, bytes.Contains(raw, []byte("order-1")))
		require.True(t, bytes.Contains(raw, []byte("CodecOrder")))

		// Another engine with the key reads everything back.
		again := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		var out string
		require.NoError(t, again.Run("order-1").Get(waitCtx(t), &out))
		require.Contains(t, out, "signal-canary")
		verifyAll(t, again)
	})

	t.Run("WithoutCodecTheCanariesAreVisible", func(t *testing.T) {
		t.Parallel()
		// The control of the test above: the same run stores the canaries
		// in plaintext when no codec is set, so their absence means
		// something.
		path := filepath.Join(t.TempDir(), "plain.db")
		e := open(t, path)
		driveCodecOrder(t, e, "order-1")
		require.NoError(t, e.Close())
		raw := storeBytes(t, path)
		for _, c := range []string{"input-canary", "activity-canary", "signal-canary", "update-canary", "child-canary"} {
			require.True(t, bytes.Contains(raw, []byte(c)), "%q", c)
		}
	})

	t.Run("HeartbeatDetailsAreEncoded", func(t *testing.T) {
		t.Parallel()
		mem, err := durable.Open(context.Background(), "memory:")
		require.NoError(t, err)
		t.Cleanup(func() { mem.Close() })
		hs := &heartbeatStore{Store: mem.Store(), details: make(chan []byte, 8)}
		e, err := durable.New(context.Background(), hs, durable.WithActivityTaskRows(true), durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		require.NoError(t, err)
		t.Cleanup(func() { e.Close() })
		registerCodecOrder(e)
		driveCodecOrder(t, e, "order-hb")
		select {
		case d := <-hs.details:
			require.False(t, bytes.Contains(d, []byte("heartbeat-canary")), "%q", d)
		default:
			t.Fatal("no heartbeat details reached the store")
		}
	})

	t.Run("WrongKeyNamesTheRun", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "enc.db")
		e := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		driveCodecOrder(t, e, "order-1")
		require.NoError(t, e.Close())

		wrong := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecOtherKey)))
		var out string
		err := wrong.Run("order-1").Get(waitCtx(t), &out)
		require.ErrorIs(t, err, durable.ErrPayloadDecode)
		require.Contains(t, err.Error(), "order-1")
		require.Contains(t, err.Error(), "message authentication failed")
		_, err = wrong.Store().LoadJournal(context.Background(), runIDOf(t, path, "order-1"), 0)
		require.ErrorIs(t, err, durable.ErrPayloadDecode)
		require.Regexp(t, `run \S+ event 1 \(`, err.Error())
	})

	t.Run("WithoutTheCodecAdminReadsSaySo", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "enc.db")
		e := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		driveCodecOrder(t, e, "order-1")
		require.NoError(t, e.Close())

		plain := open(t, path)
		_, err := plain.DescribeRun(context.Background(), "order-1", "")
		require.ErrorIs(t, err, durable.ErrPayloadDecode)
		require.ErrorContains(t, err, "WithPayloadCodec")
		h, err := plain.History(context.Background(), "order-1", "")
		require.NoError(t, err)
		require.Contains(t, h.Events[0].Summary, "encoded by a payload codec")
	})

	t.Run("UndecodableRunDoesNotHoldUpOthers", func(t *testing.T) {
		t.Parallel()
		// A run written under another key fails where it is read, and
		// the runs claimed with it go on.
		path := filepath.Join(t.TempDir(), "mixed.db")
		ctx := waitCtx(t)
		old := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecOtherKey)))
		_, err := old.Start(ctx, durable.StartOptions{ID: "old-key"}, CodecOrder, "input-canary", 0)
		require.NoError(t, err)
		require.NoError(t, old.Close())

		e := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		client := openEngine(t, "sqlite:"+path, durable.WithClientOnly(), durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		require.NoError(t, client.Signal(ctx, "old-key", "go", "signal-canary"))
		_, err = client.Start(ctx, durable.StartOptions{ID: "new-key"}, CodecOrder, "input-canary", 1)
		require.NoError(t, err)
		var out string
		require.NoError(t, client.Run("new-key").Get(ctx, &out))
		require.Equal(t, "done input-canary", out)
		_, err = e.Store().LoadJournal(ctx, runIDOf(t, path, "old-key"), 0)
		require.ErrorIs(t, err, durable.ErrPayloadDecode)
	})

	t.Run("CodecAddedToAnExistingStore", func(t *testing.T) {
		t.Parallel()
		// Runs written without a codec, finished and unfinished, go on
		// under one; what is written from then on is encoded.
		path := filepath.Join(t.TempDir(), "legacy.db")
		plain := open(t, path)
		ctx := waitCtx(t)
		_, err := plain.Start(ctx, durable.StartOptions{ID: "old"}, CodecOrder, "input-canary", 1)
		require.NoError(t, err)
		require.NoError(t, plain.Run("old").Get(ctx, nil))
		_, err = plain.Start(ctx, durable.StartOptions{ID: "half"}, CodecOrder, "input-canary", 0)
		require.NoError(t, err)
		h, err := plain.UpdateWorkflow(ctx, durable.UpdateWorkflowOptions{WorkflowID: "half", UpdateName: "add", Args: []any{"update-canary"}, WaitForStage: durable.UpdateStageCompleted})
		require.NoError(t, err)
		require.NoError(t, h.Get(ctx, nil))
		require.NoError(t, plain.Close())

		enc := open(t, path, durable.WithPayloadCodec(newAESCodec(t, codecKey)))
		var out string
		require.NoError(t, enc.Run("old").Get(ctx, &out))
		require.Equal(t, "done input-canary", out)
		require.NoError(t, enc.Signal(ctx, "half", "go", "late-signal-canary"))
		require.NoError(t, enc.Run("half").Get(ctx, &out))
		require.Contains(t, out, "late-signal-canary")
		verifyAll(t, enc)
		require.NoError(t, enc.Close())
		require.False(t, bytes.Contains(storeBytes(t, path), []byte("late-signal-canary")))
	})
}

// runIDOf reads the run ID of a workflow ID from the store at path.
func runIDOf(t *testing.T, path, workflowID string) string {
	t.Helper()
	e := openEngine(t, "sqlite:"+path, durable.WithClientOnly())
	r, err := e.Store().CurrentRun(context.Background(), workflowID)
	if err != nil && !errors.Is(err, durable.ErrPayloadDecode) {
		require.NoError(t, err)
	}
	require.NotNil(t, r)
	return r.RunID
}

func TestPayloadCodecPostgres(t *testing.T) {
	t.Parallel()
	dsn, schema := pgSchema(t)
	e := openPGEngine(t, dsn, schema, durable.WithActivityTaskRows(true), durable.WithPayloadCodec(newAESCodec(t, codecKey)))
	registerCodecOrder(e)
	driveCodecOrder(t, e, "order-pg")
	verifyAll(t, e)

	conn := pgConn(t, dsn, schema)
	ctx := waitCtx(t)
	var rows int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&rows))
	require.Positive(t, rows)
	for _, c := range codecCanaries {
		var n int
		err := conn.QueryRow(ctx, `
SELECT (SELECT count(*) FROM events WHERE position($1::bytea IN coalesce(data, '')) > 0)
     + (SELECT count(*) FROM inbox  WHERE position($1::bytea IN coalesce(data, '')) > 0)
     + (SELECT count(*) FROM tasks  WHERE position($1::bytea IN coalesce(data, '') || coalesce(details, '')) > 0)
     + (SELECT count(*) FROM runs   WHERE position($1::bytea IN coalesce(input, '') || coalesce(result, '') || coalesce(error, '')) > 0)`,
			[]byte(c)).Scan(&n)
		require.NoError(t, err)
		require.Zero(t, n, "%q is stored in plaintext", c)
	}
	var plainIDs int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM runs WHERE workflow_id = 'order-pg'`).Scan(&plainIDs))
	require.Equal(t, 2, plainIDs, "the run and its continuation, found by their plaintext workflow ID")

	wrong := openPGEngine(t, dsn, schema, durable.WithClientOnly(), durable.WithPayloadCodec(newAESCodec(t, codecOtherKey)))
	err := wrong.Run("order-pg").Get(ctx, nil)
	require.ErrorIs(t, err, durable.ErrPayloadDecode)
	require.True(t, strings.Contains(err.Error(), "order-pg") || strings.Contains(err.Error(), "run "), err.Error())
}

// TestCodecStoreConformance runs the store conformance suite on an SQLite
// store behind an AES-GCM codec: the wrapper keeps every guarantee of the
// store beneath it.
func TestCodecStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "conf.db"))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return durable.NewCodecStore(st, newAESCodec(t, codecKey))
	})
}

// TestCodecStoreConformancePostgres is TestCodecStoreConformance on
// PostgreSQL, whose store loads runs with their claim (store.RunLoader).
func TestCodecStoreConformancePostgres(t *testing.T) {
	t.Parallel()
	pgDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		dsn, schema := pgSchema(t)
		st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), postgres.WithMaxConns(4))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return durable.NewCodecStore(st, newAESCodec(t, codecKey))
	})
}

// poisonCodec refuses to decode values that contain "poison".
type poisonCodec struct{}

func (poisonCodec) Encode(_ context.Context, b []byte) ([]byte, error) { return b, nil }

func (poisonCodec) Decode(_ context.Context, b []byte) ([]byte, error) {
	if bytes.Contains(b, []byte("poison")) {
		return nil, errors.New("poisoned value")
	}
	return b, nil
}

// PoisonOn returns a result that poisonCodec cannot decode for "bad".
func PoisonOn(ctx context.Context, s string) (string, error) {
	if s == "bad" {
		return s + " poison", nil
	}
	return s + " ok", nil
}

func TestPayloadCodecClientGet(t *testing.T) {
	t.Parallel()
	// A client-only engine's Get of a run whose result does not decode
	// fails naming it; the other runs' Gets return their results.
	path := filepath.Join(t.TempDir(), "client.db")
	worker := openEngine(t, "sqlite:"+path, durable.WithPayloadCodec(poisonCodec{}))
	worker.RegisterWorkflow(PoisonOn)
	client := openEngine(t, "sqlite:"+path, durable.WithClientOnly(), durable.WithPayloadCodec(poisonCodec{}))
	ctx := waitCtx(t)
	bad, err := client.Start(ctx, durable.StartOptions{ID: "bad"}, "PoisonOn", "bad")
	require.NoError(t, err)
	good, err := client.Start(ctx, durable.StartOptions{ID: "good"}, "PoisonOn", "good")
	require.NoError(t, err)
	// Both are closed before the client asks: its first status read
	// returns both.
	require.ErrorIs(t, worker.Run("bad").Get(ctx, nil), durable.ErrPayloadDecode)
	require.NoError(t, worker.Run("good").Get(ctx, nil))

	err = bad.Get(ctx, nil)
	require.ErrorIs(t, err, durable.ErrPayloadDecode)
	require.ErrorContains(t, err, "poisoned value")
	var out string
	require.NoError(t, good.Get(ctx, &out))
	require.Equal(t, "good ok", out)
}

// BenchmarkPayloadCodec runs a workflow with three activities on an SQLite
// file, without a codec and with the AES-GCM one: the codec's cost per run.
func BenchmarkPayloadCodec(b *testing.B) {
	for _, bc := range []struct {
		name  string
		codec durable.PayloadCodec
	}{{"None", nil}, {"AESGCM", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			codec := bc.codec
			if bc.name == "AESGCM" {
				block, err := aes.NewCipher([]byte(codecKey))
				require.NoError(b, err)
				aead, err := cipher.NewGCM(block)
				require.NoError(b, err)
				codec = &aesCodec{aead: aead}
			}
			ctx := context.Background()
			e, err := durable.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"),
				durable.WithPayloadCodec(codec), durable.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(b, err)
			defer e.Close()
			e.RegisterWorkflow(Steps3)
			e.RegisterActivity(Dot)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run, err := e.Start(ctx, durable.StartOptions{ID: fmt.Sprint("b-", i)}, Steps3, "x")
				require.NoError(b, err)
				require.NoError(b, run.Get(ctx, nil))
			}
		})
	}
}
