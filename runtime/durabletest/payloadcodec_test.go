package durabletest_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// reverseCodec stores bytes reversed behind a tag and counts its calls.
type reverseCodec struct{ encodes, decodes atomic.Int64 }

func (c *reverseCodec) Encode(_ context.Context, b []byte) ([]byte, error) {
	c.encodes.Add(1)
	out := []byte("rev:")
	for i := len(b) - 1; i >= 0; i-- {
		out = append(out, b[i])
	}
	return out, nil
}

func (c *reverseCodec) Decode(_ context.Context, b []byte) ([]byte, error) {
	c.decodes.Add(1)
	if !bytes.HasPrefix(b, []byte("rev:")) {
		return nil, errors.New("not reversed")
	}
	b = b[len("rev:"):]
	out := make([]byte, 0, len(b))
	for i := len(b) - 1; i >= 0; i-- {
		out = append(out, b[i])
	}
	return out, nil
}

func codecEcho(ctx context.Context, s string) (string, error) { return "echo " + s, nil }

var errAlways = errors.New("always")

// codecFlaky's Fail always fails, counting its attempts.
type codecFlaky struct{ attempts atomic.Int64 }

func (f *codecFlaky) Fail(ctx context.Context) error {
	f.attempts.Add(1)
	return errAlways
}

func codecWorkflow(ctx context.Context, s string) (string, error) {
	sig, err := durable.Receive[string](ctx, "sig")
	if err != nil {
		return "", err
	}
	return durable.Call[string](ctx, codecEcho, s+" "+sig)
}

func codecRetries(ctx context.Context) error { return durable.Exec(ctx, "Fail") }

func TestEnvPayloadCodec(t *testing.T) {
	t.Parallel()

	t.Run("WorkflowRunsThroughTheCodec", func(t *testing.T) {
		t.Parallel()
		codec := &reverseCodec{}
		env := durabletest.NewEnv(t)
		env.SetPayloadCodec(codec)
		env.RegisterWorkflow(codecWorkflow)
		env.RegisterActivity(codecEcho)
		env.RegisterDelayedCallback(func() { env.SignalWorkflow("sig", "there") }, 0)
		env.ExecuteWorkflow(codecWorkflow, "hi")
		require.True(t, env.IsWorkflowCompleted())
		var out string
		require.NoError(t, env.GetWorkflowResult(&out))
		require.Equal(t, "echo hi there", out)
		require.Positive(t, codec.encodes.Load())
		require.Positive(t, codec.decodes.Load())
	})

	t.Run("SetDataConverterTakesACodec", func(t *testing.T) {
		t.Parallel()
		codec := &reverseCodec{}
		env := durabletest.NewEnv(t)
		env.SetDataConverter(codec)
		env.RegisterWorkflow(codecWorkflow)
		env.RegisterActivity(codecEcho)
		env.RegisterDelayedCallback(func() { env.SignalWorkflow("sig", "there") }, 0)
		env.ExecuteWorkflow(codecWorkflow, "hi")
		require.NoError(t, env.GetWorkflowError())
		require.Positive(t, codec.encodes.Load())
	})

	t.Run("TestRetryDefaultsStillApply", func(t *testing.T) {
		t.Parallel()
		// The codec sits beneath the Env's own store adapter, which reads
		// activity tasks to apply Temporal's test retry limit: with the
		// codec above it, this activity would retry without end.
		env := durabletest.NewEnv(t)
		env.SetPayloadCodec(&reverseCodec{})
		env.RegisterWorkflow(codecRetries)
		flaky := &codecFlaky{}
		env.RegisterActivity(flaky)
		env.ExecuteWorkflow(codecRetries)
		require.ErrorContains(t, env.GetWorkflowError(), "always")
		require.EqualValues(t, durabletest.MaximumAttemptsDefault, flaky.attempts.Load())
	})
}
