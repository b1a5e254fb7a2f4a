package durableui_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durableui"
)

// screenshots, when set, is the directory the browser test saves a PNG of
// each page to (docs/ui: go test ./runtime/durableui -run TestBrowser
// -screenshots ../../docs/ui).
var screenshots = flag.String("screenshots", "", "save a screenshot of each page the browser test visits to this directory")

// chromium returns the path of a Chromium (Debian's chromium package) or
// Chrome binary. Without one the test skips, except under CI, where it
// fails: CI installs chromium (.ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH under CI: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// TestBrowser drives the UI in a real headless Chromium: it loads the runs
// list and run pages, signals one run, cancels another and resumes a stuck
// one by clicking, and checks each result in the store.
func TestBrowser(t *testing.T) {
	t.Parallel()
	path := chromium(t)
	b := setup(t, durableui.Options{})
	b.start(t, "order-1001")
	b.start(t, "order-1002")
	// A run that a deploy of changed code cannot replay: it called
	// Prepare, the new code sleeps there instead.
	_, err := b.client.Start(b.ctx, durable.StartOptions{ID: "shipment-7"}, "Shipment", "shipment-7")
	require.NoError(t, err)
	b.waitStatus(t, "shipment-7", func(info *durable.RunInfo) bool { return info.JournalLen >= 3 })
	b.diverge.Store(true)
	b.restartWorker(t)
	require.NoError(t, b.client.Signal(b.ctx, "shipment-7", "go", "by sea"))
	b.waitStatus(t, "shipment-7", func(info *durable.RunInfo) bool { return info.Status == "stuck" })
	_, err = b.client.Start(b.ctx, durable.StartOptions{ID: "order-1000"}, "Wait", "order-1000")
	require.NoError(t, err)
	b.waitStatus(t, "order-1000", func(info *durable.RunInfo) bool { return info.JournalLen >= 3 })
	require.NoError(t, b.client.Signal(b.ctx, "order-1000", "go", "yesterday"))
	b.waitStatus(t, "order-1000", func(info *durable.RunInfo) bool { return info.Status == "completed" })

	_, err = b.client.Start(b.ctx, durable.StartOptions{ID: "billing-42"}, "Billing", "4242")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		h, err := b.client.History(b.ctx, "billing-42", "")
		require.NoError(t, err)
		return len(h.PendingActivities) == 1 && h.PendingActivities[0].Attempt == 2
	}, 20*time.Second, 10*time.Millisecond, "the first attempt fails and the second waits an hour")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(b.ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err)
		return s
	}
	shot := func(name string) {
		t.Helper()
		if *screenshots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(*screenshots, name), png, 0o644))
	}

	// The runs list: counts by status, one row per run.
	do(chromedp.Navigate(b.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#runs")))
	counts, rows := text(".counts"), text("#runs tbody")
	shot("runs.png")
	require.Contains(t, counts, "3running")
	require.Contains(t, counts, "1stuck")
	require.Contains(t, counts, "1completed")
	for _, id := range []string{"order-1000", "order-1001", "order-1002", "shipment-7", "billing-42"} {
		require.Contains(t, rows, id)
	}

	// A run's page, reached by its link; signal it from the form.
	do(chromedp.Click(chromedp.CSS(`a[href^="/runs/order-1001"]`)), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	timeline := text("#timeline")
	require.Contains(t, timeline, "activity Prepare #")
	require.Contains(t, timeline, "(attempt 2)")
	shot("run.png")
	do(
		chromedp.SendKeys(chromedp.CSS("#signal-name"), "go"),
		chromedp.SendKeys(chromedp.CSS("#signal-arg"), `"today"`),
		chromedp.Click(chromedp.CSS("#signal")),
		chromedp.WaitVisible(chromedp.CSS("#msg")),
	)
	require.Equal(t, "signal go sent", strings.TrimSpace(text("#msg")))
	info := b.waitStatus(t, "order-1001", func(info *durable.RunInfo) bool { return info.Status == "completed" })
	require.JSONEq(t, `"order-1001 went today"`, string(info.Result))
	do(chromedp.Navigate(b.srv.URL+"/runs/order-1001"), chromedp.WaitVisible(chromedp.CSS("#result")))
	require.Equal(t, "completed", text("#status"))
	shot("run-completed.png")

	// A run waiting to retry an activity shows it with its attempt.
	do(chromedp.Navigate(b.srv.URL+"/runs/billing-42"), chromedp.WaitVisible(chromedp.CSS("#pending")))
	pending := text("#pending tbody")
	require.Regexp(t, `Charge\s+backoff\s+2\s`, pending)
	shot("run-pending.png")

	// Cancel another run with its button.
	do(
		chromedp.Navigate(b.srv.URL+"/runs/order-1002"),
		chromedp.WaitVisible(chromedp.CSS("#cancel")),
		chromedp.Click(chromedp.CSS("#cancel")),
		chromedp.WaitVisible(chromedp.CSS("#msg")),
	)
	require.Equal(t, "cancellation requested", strings.TrimSpace(text("#msg")))
	b.waitStatus(t, "order-1002", func(info *durable.RunInfo) bool { return info.Status == "canceled" })

	// The stuck run shows its non-determinism error and a Resume button;
	// after the fix (the old code again), resuming completes it.
	do(chromedp.Navigate(b.srv.URL+"/runs/shipment-7"), chromedp.WaitVisible(chromedp.CSS("#stuck")))
	stuck := text("#stuck")
	require.Contains(t, stuck, "non-determinism in run")
	require.Contains(t, stuck, "Prepare")
	shot("stuck.png")
	b.diverge.Store(false)
	do(chromedp.Click(chromedp.CSS("#resume")), chromedp.WaitVisible(chromedp.CSS("#msg")))
	info = b.waitStatus(t, "shipment-7", func(info *durable.RunInfo) bool { return info.Status == "completed" })
	require.JSONEq(t, `"shipment-7 shipped by sea"`, string(info.Result))
}
