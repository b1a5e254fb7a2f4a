package durabletest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

func SendReminder(ctx context.Context, user string) (string, error) {
	return "", fmt.Errorf("would send a real e-mail to %s", user)
}

// ReminderWorkflow waits a week for a "done" signal and reminds the user
// if it does not come.
func ReminderWorkflow(ctx context.Context, user string) (string, error) {
	timerCtx, cancelTimer := context.WithCancel(ctx)
	defer cancelTimer()
	week := durable.NewTimer(timerCtx, 7*24*time.Hour)
	done := durable.SignalChannel[string](ctx, "done")
	sel := durable.NewSelector(ctx)
	var outcome string
	sel.AddReceive(done, func(durable.Receiver, bool) {
		by, _ := done.Receive(ctx)
		outcome = "done early, by " + by
	})
	sel.AddFuture(week, func(durable.Waiter) {
		if id, err := durable.Call[string](ctx, SendReminder, user); err != nil {
			outcome = "reminder failed: " + err.Error()
		} else {
			outcome = "reminded, message " + id
		}
	})
	sel.Select(ctx)
	return outcome, ctx.Err()
}

// The test of a workflow that waits a week runs in milliseconds: time skips
// whenever the workflow waits. In a test, pass the test's *testing.T to
// NewEnv (this example stands one in).
func Example() {
	t := &exampleT{}
	env := durabletest.NewEnv(t)
	env.OnActivity(SendReminder, durabletest.Anything, "ada").Return("msg-1", nil).Once()
	start := env.Now()

	env.ExecuteWorkflow(ReminderWorkflow, "ada")

	var got string
	err := env.GetWorkflowResult(&got)
	fmt.Println(env.IsWorkflowCompleted(), err, got)
	fmt.Println("test time:", env.Now().Sub(start))
	fmt.Println("expectations met:", env.AssertExpectations(t))
	t.cleanup()
	// Output:
	// true <nil> reminded, message msg-1
	// test time: 168h0m0s
	// expectations met: true
}

// exampleT stands in for the *testing.T a test has.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (*exampleT) Helper()                           {}
func (*exampleT) Log(args ...any)                   {}
func (*exampleT) Logf(format string, args ...any)   {}
func (*exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	panic("fatal")
}
func (*exampleT) FailNow()           { panic("fatal") }
func (t *exampleT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
