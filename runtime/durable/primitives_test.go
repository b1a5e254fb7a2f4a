package durable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

func Echo(ctx context.Context, s string) (string, error) { return s, nil }

func SlowEcho(ctx context.Context, s string, ms int) (string, error) {
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return s, nil
}

func ChildDouble(ctx context.Context, n int) (int, error) {
	if n < 0 {
		return 0, durable.NewNonRetryableApplicationError("negative", "BadInput", nil)
	}
	v, err := durable.Call[string](ctx, Echo, fmt.Sprint(n*2))
	if err != nil {
		return 0, err
	}
	var out int
	fmt.Sscan(v, &out)
	return out, nil
}

func FlakyChild(ctx context.Context) (string, error) {
	if a := durable.GetInfo(ctx).Attempt; a < 3 {
		return "", fmt.Errorf("attempt %d fails", a)
	}
	return fmt.Sprintf("attempt %d ok", durable.GetInfo(ctx).Attempt), nil
}

func SleepyChild(ctx context.Context) (string, error) {
	return "late", durable.Sleep(ctx, time.Hour)
}

func Countdown(ctx context.Context, n int, acc string) (string, error) {
	if n == 0 {
		return acc + "|chain=" + fmt.Sprint(durable.GetInfo(ctx).ChainPosition), nil
	}
	s, err := durable.Call[string](ctx, Echo, fmt.Sprint(n))
	if err != nil {
		return "", err
	}
	return "", durable.ContinueAsNew(ctx, Countdown, n-1, acc+s)
}

// scenario is a workflow with a known result, run on a fresh engine; its
// journal must replay to the same result.
type scenario struct {
	name  string
	wf    func(ctx context.Context) (string, error)
	drive func(ctx context.Context, t *testing.T, e *durable.Engine, id string)
	want  string
	err   string
}

func primitiveScenarios() []scenario {
	return []scenario{
		{name: "BufferedChannelBetweenCoroutines", want: "0,1,2,3,4", wf: func(ctx context.Context) (string, error) {
			ch := durable.NewBufferedChannel[int](ctx, 2)
			durable.Go(ctx, func(ctx context.Context) {
				for i := range 5 {
					ch.Send(ctx, i)
				}
				ch.Close()
			})
			var got []string
			for {
				v, more := ch.Receive(ctx)
				if !more {
					break
				}
				got = append(got, fmt.Sprint(v))
			}
			return strings.Join(got, ","), nil
		}},
		{name: "UnbufferedChannelHandsOff", want: "a>b>c", wf: func(ctx context.Context) (string, error) {
			ch := durable.NewChannel[string](ctx)
			out := durable.NewChannel[string](ctx)
			durable.Go(ctx, func(ctx context.Context) {
				acc := ""
				for range 3 {
					v, _ := ch.Receive(ctx)
					if acc != "" {
						acc += ">"
					}
					acc += v
				}
				out.Send(ctx, acc)
			})
			for _, s := range []string{"a", "b", "c"} {
				if err := ch.Send(ctx, s); err != nil {
					return "", err
				}
			}
			v, _ := out.Receive(ctx)
			return v, nil
		}},
		{name: "SelectorTakesFuturesAsTheyComplete", want: "fast,slow", wf: func(ctx context.Context) (string, error) {
			slow := durable.Async[string](ctx, SlowEcho, "slow", 60)
			fast := durable.Async[string](ctx, SlowEcho, "fast", 1)
			var order []string
			sel := durable.NewSelector(ctx)
			for _, f := range []durable.Future[string]{slow, fast} {
				sel.AddFuture(f, func(w durable.Waiter) {
					v, _ := w.(durable.Future[string]).Get(ctx)
					order = append(order, v)
				})
			}
			sel.Select(ctx)
			sel.Select(ctx)
			return strings.Join(order, ","), nil
		}},
		{name: "SelectorSignalBeatsTimer", want: "signal:hi", drive: signalAfterStart("poke", "hi"), wf: func(ctx context.Context) (string, error) {
			var got string
			sig := durable.SignalChannel[string](ctx, "poke")
			tctx, cancel := context.WithCancel(ctx)
			defer cancel()
			timer := durable.NewTimer(tctx, time.Hour)
			durable.NewSelector(ctx).
				AddReceive(sig, func(c durable.Receiver, more bool) {
					v, _ := sig.Receive(ctx)
					got = "signal:" + v
				}).
				AddFuture(timer, func(durable.Waiter) { got = "timer" }).
				Select(ctx)
			return got, nil
		}},
		{name: "SelectorDefaultAndSend", want: "default,sent,1", wf: func(ctx context.Context) (string, error) {
			ch := durable.NewBufferedChannel[int](ctx, 1)
			var log []string
			sel := durable.NewSelector(ctx)
			sel.AddReceive(ch, func(durable.Receiver, bool) { log = append(log, "received") })
			sel.AddDefault(func() { log = append(log, "default") })
			sel.Select(ctx)
			durable.NewSelector(ctx).AddSend(ch, 1, func() { log = append(log, "sent") }).Select(ctx)
			v, _ := ch.ReceiveAsync()
			return strings.Join(log, ",") + "," + fmt.Sprint(v), nil
		}},
		{name: "SelectAsAPlainLoop", want: "a,b,timer", drive: func(ctx context.Context, t *testing.T, e *durable.Engine, id string) {
			require.NoError(t, e.Signal(ctx, id, "in", "a"))
			require.NoError(t, e.Signal(ctx, id, "in", "b"))
		}, wf: func(ctx context.Context) (string, error) {
			in := durable.SignalChannel[string](ctx, "in")
			var got []string
			for len(got) < 2 {
				switch durable.Select(ctx, durable.OnReceive(in)) {
				case 0:
					v, _ := in.ReceiveAsync()
					got = append(got, v)
				}
			}
			timer := durable.NewTimer(ctx, 5*time.Millisecond)
			for {
				switch durable.Select(ctx, durable.OnReceive(in), durable.OnFuture(timer)) {
				case 0:
					v, _ := in.ReceiveAsync()
					got = append(got, "late "+v)
				case 1:
					return strings.Join(append(got, "timer"), ","), nil
				}
			}
		}},
		{name: "AwaitSeesSharedState", want: "ready after 2 steps", wf: func(ctx context.Context) (string, error) {
			steps := 0
			durable.Go(ctx, func(ctx context.Context) {
				for range 2 {
					durable.Call[string](ctx, Echo, "x")
					steps++
				}
			})
			if err := durable.Await(ctx, func() bool { return steps == 2 }); err != nil {
				return "", err
			}
			return fmt.Sprintf("ready after %d steps", steps), nil
		}},
		{name: "AwaitWithTimeoutTimesOut", want: "false", wf: func(ctx context.Context) (string, error) {
			ok, err := durable.AwaitWithTimeout(ctx, 20*time.Millisecond, func() bool { return false })
			return fmt.Sprint(ok), err
		}},
		{name: "WaitGroupMutexSemaphore", want: "sum=6 maxInside=1 maxConcurrent=2", wf: func(ctx context.Context) (string, error) {
			wg := durable.NewWaitGroup(ctx)
			mu := durable.NewMutex(ctx)
			sem := durable.NewSemaphore(ctx, 2)
			sum, inside, maxInside, running, maxRunning := 0, 0, 0, 0, 0
			for i := 1; i <= 3; i++ {
				wg.Add(1)
				durable.Go(ctx, func(ctx context.Context) {
					defer wg.Done()
					sem.Acquire(ctx, 1)
					running++
					maxRunning = max(maxRunning, running)
					durable.Call[string](ctx, Echo, "work")
					running--
					sem.Release(1)
					mu.Lock(ctx)
					inside++
					maxInside = max(maxInside, inside)
					durable.Call[string](ctx, Echo, "locked")
					sum += i
					inside--
					mu.Unlock()
				})
			}
			if err := wg.Wait(ctx); err != nil {
				return "", err
			}
			return fmt.Sprintf("sum=%d maxInside=%d maxConcurrent=%d", sum, maxInside, maxRunning), nil
		}},
		{name: "ChildResultAndFailure", want: "42 negative BadInput", wf: func(ctx context.Context) (string, error) {
			v, err := durable.Child[int](ctx, ChildDouble, 21)
			if err != nil {
				return "", err
			}
			_, err = durable.Child[int](ctx, ChildDouble, -1)
			var app *durable.ApplicationError
			if !errors.As(err, &app) {
				return "", fmt.Errorf("want an application error, got %v", err)
			}
			return fmt.Sprintf("%d %s %s", v, app.Message(), app.Type()), nil
		}},
		{name: "ChildRetryAndTimeout", want: "attempt 3 ok; timeout Execution", wf: func(ctx context.Context) (string, error) {
			rctx := durable.WithChildOptions(ctx, durable.ChildOptions{ID: "flaky-child", RetryPolicy: &durable.RetryPolicy{InitialInterval: time.Millisecond}})
			v, err := durable.Child[string](rctx, FlakyChild)
			if err != nil {
				return "", err
			}
			tctx := durable.WithChildOptions(ctx, durable.ChildOptions{ExecutionTimeout: 30 * time.Millisecond})
			_, err = durable.Child[string](tctx, SleepyChild)
			var te *durable.TimeoutError
			if !errors.As(err, &te) {
				return "", fmt.Errorf("want a timeout, got %v", err)
			}
			return v + "; timeout " + te.Kind, nil
		}},
		{name: "ContinueAsNewChain", want: "321|chain=3", wf: func(ctx context.Context) (string, error) {
			return durable.Child[string](ctx, Countdown, 3, "")
		}},
		{name: "SideEffectAndVersion", want: "v=2 se=7", wf: func(ctx context.Context) (string, error) {
			v := durable.Version(ctx, "change-1", durable.DefaultVersion, 2)
			se := durable.SideEffect(ctx, func() int { return 7 })
			return fmt.Sprintf("v=%d se=%d", v, se), nil
		}},
		{name: "LocalActivity", want: "local", wf: func(ctx context.Context) (string, error) {
			return durable.CallLocal[string](ctx, Echo, "local")
		}},
		{name: "CancelledScopeCancelsTheTimer", want: "canceled true", wf: func(ctx context.Context) (string, error) {
			sctx, cancel := context.WithCancel(ctx)
			f := durable.NewTimer(sctx, time.Hour)
			durable.Go(ctx, func(ctx context.Context) {
				durable.Call[string](ctx, Echo, "x")
				cancel()
			})
			_, err := f.Get(ctx)
			return fmt.Sprint("canceled ", errors.Is(err, context.Canceled)), nil
		}},
		{name: "UpdateWithValidator", want: "total=5", drive: func(ctx context.Context, t *testing.T, e *durable.Engine, id string) {
			waitForJournal(t, e, id, 2)
			_, err := e.Update(ctx, id, "add", -1)
			require.ErrorContains(t, err, "must be positive")
			require.ErrorIs(t, err, durable.ErrUpdateRejected)
			v, err := e.Update(ctx, id, "add", 5)
			require.NoError(t, err)
			var total int
			require.NoError(t, v.Get(&total))
			require.Equal(t, 5, total)
			require.NoError(t, e.Signal(ctx, id, "done", true))
		}, wf: func(ctx context.Context) (string, error) {
			total := 0
			err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
				if _, err := durable.Call[string](ctx, Echo, "add"); err != nil {
					return 0, err
				}
				total += n
				return total, nil
			}, durable.UpdateOptions{Validator: func(n int) error {
				if n <= 0 {
					return errors.New("must be positive")
				}
				return nil
			}})
			if err != nil {
				return "", err
			}
			if _, err := durable.Call[string](ctx, Echo, "ready"); err != nil {
				return "", err
			}
			if _, err := durable.Receive[bool](ctx, "done"); err != nil {
				return "", err
			}
			if err := durable.Await(ctx, func() bool { return durable.AllHandlersFinished(ctx) }); err != nil {
				return "", err
			}
			return fmt.Sprintf("total=%d", total), nil
		}},
	}
}

func signalAfterStart(name string, arg any) func(ctx context.Context, t *testing.T, e *durable.Engine, id string) {
	return func(ctx context.Context, t *testing.T, e *durable.Engine, id string) {
		require.NoError(t, e.Signal(ctx, id, name, arg))
	}
}

func waitForJournal(t *testing.T, e *durable.Engine, id string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		r, err := e.Store().CurrentRun(context.Background(), id)
		return err == nil && r.JournalLen >= int64(n)
	}, 10*time.Second, 2*time.Millisecond)
}

func registerScenarioDeps(e *durable.Engine) {
	e.RegisterActivity(Echo)
	e.RegisterActivity(SlowEcho)
	e.RegisterWorkflow(ChildDouble)
	e.RegisterWorkflow(Countdown)
	e.RegisterWorkflow(FlakyChild)
	e.RegisterWorkflow(SleepyChild)
}

// TestPrimitives runs every scenario twice, as the STYLE guide asks of
// engine scenarios: with runs parked in memory, and with runs evicted at
// every wait so that each step is replayed from the journal. The parked
// run's journal is then replayed from scratch by Verify.
func TestPrimitives(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opts []durable.Option
	}{
		{"Parked", nil},
		{"EvictedAtEveryWait", []durable.Option{durable.WithMaxCachedRuns(1), durable.WithEvictAfter(time.Nanosecond)}},
	} {
		for _, sc := range primitiveScenarios() {
			t.Run(mode.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				ctx := waitCtx(t)
				e := openEngine(t, "memory:", mode.opts...)
				registerScenarioDeps(e)
				e.RegisterWorkflow(sc.wf, durable.WithName(sc.name))
				run, err := e.Start(ctx, durable.StartOptions{ID: sc.name}, sc.name)
				require.NoError(t, err)
				if sc.drive != nil {
					sc.drive(ctx, t, e, sc.name)
				}
				var got string
				err = run.Get(ctx, &got)
				if sc.err != "" {
					require.ErrorContains(t, err, sc.err)
				} else {
					require.NoError(t, err)
					require.Equal(t, sc.want, got)
				}
				verifyAll(t, e)
			})
		}
	}
}

// TestDeterminism runs a scenario with coroutines, channels, selects and
// activities 50 times: every journal is the same, event for event.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	// Coroutines race for channels and selects; one coroutine calls the
	// activities, one at a time, so the journal is a function of the code.
	wf := func(ctx context.Context) (string, error) {
		requests := durable.NewChannel[string](ctx)
		results := durable.NewBufferedChannel[string](ctx, 3)
		done := durable.NewChannel[bool](ctx)
		shared := []string{}
		durable.Go(ctx, func(ctx context.Context) { // the activity caller
			for {
				req, more := requests.Receive(ctx)
				if !more {
					return
				}
				v, _ := durable.Call[string](ctx, Echo, req)
				results.Send(ctx, v)
			}
		})
		for w := range 4 {
			durable.Go(ctx, func(ctx context.Context) {
				for i := range 3 {
					requests.Send(ctx, fmt.Sprintf("w%d-%d", w, i))
					shared = append(shared, fmt.Sprintf("w%d", w))
				}
				done.Send(ctx, true)
			})
		}
		var got []string
		finished := 0
		sel := durable.NewSelector(ctx)
		sel.AddReceive(results, func(c durable.Receiver, more bool) {
			v, _ := results.Receive(ctx)
			got = append(got, v)
		})
		sel.AddReceive(done, func(c durable.Receiver, more bool) {
			done.Receive(ctx)
			finished++
		})
		for finished < 4 || len(got) < 12 {
			sel.Select(ctx)
		}
		requests.Close()
		return strings.Join(got, ",") + "|" + strings.Join(shared, ","), nil
	}
	var first []string
	e := openEngine(t, "memory:")
	e.RegisterActivity(Echo)
	e.RegisterWorkflow(wf, durable.WithName("Det"))
	for i := range 50 {
		run, err := e.Start(ctx, durable.StartOptions{ID: fmt.Sprint("det-", i)}, "Det")
		require.NoError(t, err)
		require.NoError(t, run.Get(ctx, nil))
		r, err := e.Store().CurrentRun(ctx, fmt.Sprint("det-", i))
		require.NoError(t, err)
		events, err := e.Store().LoadJournal(ctx, r.RunID, 0)
		require.NoError(t, err)
		var journal []string
		for _, ev := range events[1:] { // Started names the workflow ID

			journal = append(journal, ev.Kind+" "+string(ev.Data))
		}
		if first == nil {
			first = journal
			continue
		}
		require.Equal(t, first, journal, "run %d differs from run 0", i)
	}
	runs, err := e.Store().ListRuns(ctx, &store.ListRunsParams{})
	require.NoError(t, err)
	require.Len(t, runs, 50)
}

func TestExternalSignalAndCancel(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	receiver := func(ctx context.Context) (string, error) {
		v, err := durable.Receive[string](ctx, "msg")
		if err != nil {
			return "", err
		}
		if err := durable.Sleep(ctx, time.Hour); err != nil {
			return v + " then canceled", nil
		}
		return v, nil
	}
	sender := func(ctx context.Context) (string, error) {
		if err := durable.SignalExternal(ctx, "receiver", "msg", "hello"); err != nil {
			return "", err
		}
		if err := durable.CancelExternal(ctx, "receiver"); err != nil {
			return "", err
		}
		err := durable.SignalExternal(ctx, "nobody", "msg", "x")
		return fmt.Sprint(err != nil), nil
	}
	e.RegisterWorkflow(receiver, durable.WithName("Receiver"))
	e.RegisterWorkflow(sender, durable.WithName("Sender"))
	rr, err := e.Start(ctx, durable.StartOptions{ID: "receiver"}, "Receiver")
	require.NoError(t, err)
	sr, err := e.Start(ctx, durable.StartOptions{ID: "sender"}, "Sender")
	require.NoError(t, err)
	var s, r string
	require.NoError(t, sr.Get(ctx, &s))
	require.Equal(t, "true", s)
	require.NoError(t, rr.Get(ctx, &r))
	require.Equal(t, "hello then canceled", r)
	verifyAll(t, e)
}
