package durable_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// AnyArg takes any value, so only encoding can reject its argument.
func AnyArg(ctx context.Context, v any) (string, error) { return "ok", nil }

// CallsMissing calls an activity no worker registered, once.
func CallsMissing(ctx context.Context) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{
		StartToCloseTimeout: time.Second,
		RetryPolicy:         &durable.RetryPolicy{MaximumAttempts: 1},
	})
	return durable.Call[string](ctx, "NoSuchActivity")
}

// TestTypedInputErrors: what a caller gets wrong comes back as a typed error that
// names what is involved.
func TestTypedInputErrors(t *testing.T) {
	t.Parallel()

	type bundle struct {
		ctx context.Context
		e   *durable.Engine
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		e := openEngine(t, "memory:")
		e.RegisterWorkflow(Steps3)
		e.RegisterWorkflow(AnyArg)
		e.RegisterWorkflow(WaitForGo)
		e.RegisterWorkflow(CallsMissing)
		e.RegisterActivity(Dot)
		return &bundle{ctx: ctx, e: e}
	}

	for _, tc := range []struct {
		name  string
		call  func(t *testing.T, b *bundle) error
		check func(t *testing.T, err error)
		says  []string // the message names these
	}{
		{
			name: "ArgumentThatDoesNotEncode",
			call: func(t *testing.T, b *bundle) error {
				_, err := b.e.Start(b.ctx, durable.StartOptions{ID: "enc"}, AnyArg, make(chan int))
				return err
			},
			check: func(t *testing.T, err error) {
				var ae *durable.ArgumentError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, 1, ae.Index)
				require.Equal(t, "chan int", ae.Got)
				require.Error(t, ae.Err)
			},
			says: []string{"Start AnyArg", "argument 1 (chan int) does not encode"},
		},
		{
			name: "ArgumentOfTheWrongType",
			call: func(t *testing.T, b *bundle) error {
				_, err := b.e.Start(b.ctx, durable.StartOptions{ID: "typ"}, Steps3, 42)
				return err
			},
			check: func(t *testing.T, err error) {
				var ae *durable.ArgumentError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, durable.ArgumentError{Index: 1, Got: "int", Want: "string"}, *ae)
			},
			says: []string{"Start Steps3", "argument 1 has type int, want string"},
		},
		{
			name: "WrongNumberOfArguments",
			call: func(t *testing.T, b *bundle) error {
				_, err := b.e.Start(b.ctx, durable.StartOptions{ID: "cnt"}, Steps3)
				return err
			},
			check: func(t *testing.T, err error) {
				var ae *durable.ArgumentError
				require.ErrorAs(t, err, &ae)
				require.Zero(t, ae.Index)
				require.Equal(t, "0", ae.Got)
			},
			says: []string{"Start Steps3", "got 0 arguments, want 1"},
		},
		{
			name: "SignalArgumentThatDoesNotEncode",
			call: func(t *testing.T, b *bundle) error {
				_, err := b.e.Start(b.ctx, durable.StartOptions{ID: "sig-enc"}, WaitForGo, "a")
				require.NoError(t, err)
				return b.e.Signal(b.ctx, "sig-enc", "go", func() {})
			},
			check: func(t *testing.T, err error) {
				var ae *durable.ArgumentError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, "func()", ae.Got)
			},
			says: []string{`Signal sig-enc "go"`, "argument 1 (func()) does not encode"},
		},
		{
			name: "ResultThatDoesNotDecode",
			call: func(t *testing.T, b *bundle) error {
				run, err := b.e.Start(b.ctx, durable.StartOptions{ID: "dec"}, Steps3, "x")
				require.NoError(t, err)
				var n int
				return run.Get(b.ctx, &n)
			},
			check: func(t *testing.T, err error) {
				var de *durable.DecodeError
				require.ErrorAs(t, err, &de)
				require.Equal(t, "*int", de.Into)
				require.Equal(t, "result of workflow dec", de.What)
			},
			says: []string{"decode result of workflow dec into *int"},
		},
		{
			name: "UnknownWorkflow",
			call: func(t *testing.T, b *bundle) error {
				_, err := b.e.Start(b.ctx, durable.StartOptions{ID: "unk"}, "NoSuchWorkflow")
				return err
			},
			check: func(t *testing.T, err error) {
				var ne *durable.NotRegisteredError
				require.ErrorAs(t, err, &ne)
				require.Equal(t, durable.NotRegisteredError{Kind: "workflow", Name: "NoSuchWorkflow"}, *ne)
			},
			says: []string{`workflow "NoSuchWorkflow" is not registered`},
		},
		{
			name: "UnknownActivity",
			call: func(t *testing.T, b *bundle) error {
				run, err := b.e.Start(b.ctx, durable.StartOptions{ID: "unk-act"}, CallsMissing)
				require.NoError(t, err)
				return run.Get(b.ctx, nil)
			},
			check: func(t *testing.T, err error) {
				var ae *durable.ApplicationError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, "ActivityNotRegistered", ae.Type())
			},
			says: []string{`activity "NoSuchActivity" is not registered`},
		},
		{
			name: "IDReusedWhileOpen",
			call: func(t *testing.T, b *bundle) error {
				_, err := b.e.Start(b.ctx, durable.StartOptions{ID: "twice"}, WaitForGo, "a")
				require.NoError(t, err)
				_, err = b.e.Start(b.ctx, durable.StartOptions{ID: "twice"}, WaitForGo, "b")
				return err
			},
			check: func(t *testing.T, err error) {
				require.ErrorIs(t, err, durable.ErrAlreadyStarted)
				var ae *durable.AlreadyStartedError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, "twice", ae.WorkflowID)
			},
			says: []string{`workflow ID "twice" has an open run`},
		},
		{
			name: "SignalToAClosedRun",
			call: func(t *testing.T, b *bundle) error {
				run, err := b.e.Start(b.ctx, durable.StartOptions{ID: "closed"}, Steps3, "x")
				require.NoError(t, err)
				require.NoError(t, run.Get(b.ctx, nil))
				return b.e.Signal(b.ctx, "closed", "go", "late")
			},
			check: func(t *testing.T, err error) {
				require.ErrorIs(t, err, durable.ErrNotFound)
				var ne *durable.NotFoundError
				require.ErrorAs(t, err, &ne)
				require.Equal(t, "closed", ne.WorkflowID)
			},
			says: []string{"Signal closed", `workflow ID "closed": no open run`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			err := tc.call(t, b)
			require.Error(t, err)
			tc.check(t, err)
			for _, s := range tc.says {
				require.Contains(t, err.Error(), s)
			}
			require.False(t, errors.Is(err, durable.ErrUnavailable))
			t.Logf("%v", err)
		})
	}
}
