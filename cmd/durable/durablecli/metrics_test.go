package durablecli_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
)

// serve runs a serving command of the CLI (ui, metrics) until the test
// ends and returns the URL it logged.
func serve(t *testing.T, b *testBundle, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- durablecli.Main(ctx, append(append([]string{}, b.global...), args...), durablecli.Config{
			Stdout: &stdout, Stderr: &stderr,
			GetenvFunc: func(k string) string { return env[k] },
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			require.Equal(t, 0, code, stderr.String())
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop when its context ended")
		}
	})
	urlRe := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/\S*)`)
	var url string
	require.Eventually(t, func() bool {
		if m := urlRe.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
		return url != ""
	}, 10*time.Second, 10*time.Millisecond, "stderr: %s", stderr.String())
	return url
}

// scrape GETs url with an optional bearer token.
func scrape(t *testing.T, ctx context.Context, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()

	t.Run("MetricsCommandReportsRunsByStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "SQLite")
		b.ok(t, "start", "Order", `"lamp"`, "--id", "m-1")
		b.ok(t, "start", "Order", `"desk"`, "--id", "m-2")
		b.ok(t, "cancel", "m-2")
		url := serve(t, b, nil, "metrics", "--addr", "127.0.0.1:0")
		require.Regexp(t, `/metrics$`, url)
		var body string
		require.Eventually(t, func() bool {
			code, got := scrape(t, b.ctx, url, "")
			require.Equal(t, http.StatusOK, code, got)
			body = got
			return regexp.MustCompile(`(?m)^durable_store_runs\{[^}]*status="canceled"[^}]*\} 1$`).MatchString(body)
		}, 10*time.Second, 20*time.Millisecond, "the worker closes the cancelled run")
		require.Regexp(t, `(?m)^durable_store_runs\{[^}]*status="running"[^}]*\} 1$`, body)
		require.Contains(t, body, "# TYPE durable_store_runs gauge")
	})

	t.Run("UIServesMetricsBehindItsToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "SQLite")
		b.ok(t, "start", "Order", `"lamp"`, "--id", "u-1")
		const token = "a-token-long-enough-1234"
		base := serve(t, b, map[string]string{"DURABLE_UI_TOKEN": token}, "ui", "--addr", "127.0.0.1:0")
		code, _ := scrape(t, b.ctx, base+"metrics", "")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = scrape(t, b.ctx, base+"metrics", "wrong-token-but-long-enough")
		require.Equal(t, http.StatusUnauthorized, code)
		code, body := scrape(t, b.ctx, base+"metrics", token)
		require.Equal(t, http.StatusOK, code)
		require.Regexp(t, `(?m)^durable_store_runs\{[^}]*status="running"[^}]*\} 1$`, body)
	})

	t.Run("UIWithoutMetrics", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "SQLite")
		base := serve(t, b, nil, "ui", "--addr", "127.0.0.1:0", "--metrics=false")
		code, body := scrape(t, b.ctx, base+"metrics", "")
		require.Equal(t, http.StatusNotFound, code, body)
	})

	t.Run("MetricsRefusesToListenOpenly", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "SQLite")
		r := b.cli(t, durablecli.Config{GetenvFunc: func(string) string { return "" }}, "metrics", "--addr", "0.0.0.0:0", "--allow-remote")
		require.Equal(t, durablecli.ExitUsage, r.code)
		require.Contains(t, r.stderr, "--allow-remote needs authentication")
	})
}
