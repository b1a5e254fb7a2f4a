package durablecli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUIRefusesToListenOpenly(t *testing.T) {
	t.Parallel()
	b := setup(t, "SQLite")
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name   string
		args   []string
		env    func(string) string
		stderr string
	}{
		{"RemoteWithoutFlag", []string{"ui", "--addr", "0.0.0.0:0"}, env(), "pass --allow-remote"},
		{"RemoteWithoutAuth", []string{"ui", "--addr", "0.0.0.0:0", "--allow-remote"}, env(), "--allow-remote needs authentication"},
		{"ShortToken", []string{"ui", "--addr", "0.0.0.0:0", "--allow-remote"}, env("DURABLE_UI_TOKEN", "short"), "too short"},
		{"HalfBasicAuth", []string{"ui"}, env("DURABLE_UI_USER", "ops"), "needs both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := b.cli(t, durablecli.Config{GetenvFunc: tc.env}, tc.args...)
			require.Equal(t, durablecli.ExitUsage, r.code)
			require.Contains(t, r.stderr, tc.stderr)
		})
	}
}

// TestUIServes runs durable ui on a loopback port with a token, on a
// PostgreSQL DSN that holds a password when the server is available (trust
// authentication ignores it), and checks that the password shows nowhere.
func TestUIServes(t *testing.T) {
	t.Parallel()
	kind, secret := "SQLite", ""
	if os.Getenv("DURABLE_TEST_POSTGRES") != "" {
		kind = "PostgreSQL"
	}
	b := setup(t, kind)
	if kind == "PostgreSQL" {
		secret = "hunter2-secret"
		b.global[1] = strings.Replace(b.global[1], "postgres@", "postgres:"+secret+"@", 1)
		require.Contains(t, b.global[1], secret)
	}
	b.ok(t, "start", "Order", `"lamp"`, "--id", "ui-1")

	ctx, cancel := context.WithCancel(b.ctx)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	const token = "a-token-long-enough-1234"
	go func() {
		done <- durablecli.Main(ctx, append(append([]string{}, b.global...), "ui", "--addr", "127.0.0.1:0"), durablecli.Config{
			Stdout: &stdout, Stderr: &stderr,
			GetenvFunc: func(k string) string {
				if k == "DURABLE_UI_TOKEN" {
					return token
				}
				return ""
			},
		})
	}()
	urlRe := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/)`)
	var base string
	require.Eventually(t, func() bool {
		m := urlRe.FindStringSubmatch(stderr.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond)

	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, base+"runs/ui-1", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "ui-1")

	resp, err = http.Get(base)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/login", resp.Request.URL.Path, "without the token a browser goes to the sign-in page")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("durable ui did not stop when its context ended")
	}
	require.Contains(t, stderr.String(), "auth=token")
	if secret != "" {
		require.NotContains(t, stderr.String()+stdout.String()+string(body), secret)
		require.Contains(t, stderr.String(), "postgres:…@")
	}
}
