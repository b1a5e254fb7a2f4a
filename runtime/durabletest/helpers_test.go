package durabletest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Activities and workflows shared by the tests, in the shapes converted
// Temporal code has.

func Greet(ctx context.Context, name string) (string, error) {
	return "Hello, " + name + "!", nil
}

func GreetLater(ctx context.Context, name string) (string, error) {
	greeting, err := durable.Call[string](ctx, Greet, name)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, 24*time.Hour); err != nil {
		return "", err
	}
	return greeting + " (a day later)", nil
}

// Orders are struct activities, registered with RegisterActivity(&Orders{}).
type Orders struct{}

func (*Orders) Reserve(ctx context.Context, orderID string) (string, error) {
	return "", errors.New("the real Reserve must not run in these tests")
}

func (*Orders) Charge(ctx context.Context, orderID string, cents int) error {
	return errors.New("the real Charge must not run in these tests")
}

func OrderWorkflow(ctx context.Context, orderID string) (string, error) {
	var o *Orders
	reservation, err := durable.Call[string](ctx, o.Reserve, orderID)
	if err != nil {
		return "", fmt.Errorf("reserve: %w", err)
	}
	if err := durable.Exec(ctx, o.Charge, orderID, 4200); err != nil {
		return "", fmt.Errorf("charge: %w", err)
	}
	return reservation + "/charged", nil
}

func ApprovalWorkflow(ctx context.Context) (string, error) {
	status := "waiting"
	if err := durable.SetQueryHandler(ctx, "status", func() (string, error) { return status, nil }); err != nil {
		return "", err
	}
	approver, err := durable.Receive[string](ctx, "approve")
	if err != nil {
		return "", err
	}
	status = "approved by " + approver
	if err := durable.Sleep(ctx, time.Hour); err != nil {
		return "", err
	}
	status = "done"
	return "approved by " + approver, nil
}

func Cleanup(ctx context.Context, what string) error { return nil }

func CancellableWorkflow(ctx context.Context) (string, error) {
	if err := durable.Sleep(ctx, 10*24*time.Hour); err != nil {
		// Clean up on a context that is not cancelled, as with Temporal's
		// NewDisconnectedContext.
		if cerr := durable.Exec(context.WithoutCancel(ctx), Cleanup, "reservation"); cerr != nil {
			return "", cerr
		}
		return "", err
	}
	return "slept", nil
}

func Flaky(ctx context.Context) (string, error) { return "", errors.New("the real Flaky must not run") }

func RetryWorkflow(ctx context.Context) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &durable.RetryPolicy{
			InitialInterval:    time.Minute,
			BackoffCoefficient: 2,
			// Set, because Temporal's test environment (and so an Env)
			// defaults MaximumInterval to InitialInterval.
			MaximumInterval: time.Hour,
			MaximumAttempts: 5,
		},
	})
	return durable.Call[string](ctx, Flaky)
}

func WaitForeverWorkflow(ctx context.Context) (string, error) {
	return durable.Receive[string](ctx, "never-sent")
}

// recorder is a TestingT (and, embedding a real testing.TB for the rest,
// a testing.TB) that records failures instead of failing the test, so that
// tests can check that durabletest fails a test when it should.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func newRecorder(t *testing.T) *recorder { return &recorder{TB: t} }

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) FailNow() { runtime.Goexit() }

func (r *recorder) Fail() { r.Errorf("Fail") }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs) > 0
}

func (r *recorder) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func CountdownWorkflow(ctx context.Context, n int) (string, error) {
	if err := durable.Sleep(ctx, time.Hour); err != nil {
		return "", err
	}
	if n > 1 {
		return "", durable.ContinueAsNew(ctx, CountdownWorkflow, n-1)
	}
	return "liftoff", nil
}
