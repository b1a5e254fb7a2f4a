package durableui_test

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durableui"
)

// testBundle is a worker engine on an SQLite file, a client-only engine
// beside it (as durable ui opens), and the UI over the latter.
type testBundle struct {
	ctx    context.Context
	dsn    string
	worker *durable.Engine
	client *durable.Engine
	srv    *httptest.Server
	// diverge changes the Shipment workflow's code: it sleeps where it
	// called Prepare, so that replaying an earlier run of it diverges.
	diverge  atomic.Bool
	attempts atomic.Int32 // calls of Prepare; the first fails
}

// Wait waits for a "go" signal, answers "progress" queries and returns
// the signal's value.
func Wait(ctx context.Context, name string) (string, error) {
	progress := "waiting for go"
	if err := durable.SetQueryHandler(ctx, "progress", func() (string, error) { return progress, nil }); err != nil {
		return "", err
	}
	if _, err := durable.Call[string](ctx, "Prepare", name); err != nil {
		return "", err
	}
	v, err := durable.Receive[string](ctx, "go")
	if err != nil {
		return "", err
	}
	return name + " went " + v, nil
}

func setup(t *testing.T, o durableui.Options) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	b := &testBundle{ctx: ctx}
	quiet := durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.dsn = "sqlite:" + filepath.Join(t.TempDir(), "durable.db")
	dsn := b.dsn
	b.openWorker(t)
	var err error
	b.client, err = durable.Open(ctx, dsn, durable.WithClientOnly(), durable.WithPollInterval(20*time.Millisecond), quiet)
	require.NoError(t, err)
	t.Cleanup(func() { b.client.Close() })
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b.srv = httptest.NewServer(durableui.New(b.client, o)) // listens on 127.0.0.1
	t.Cleanup(b.srv.Close)
	return b
}

// openWorker opens the worker engine on the bundle's store with the
// test's workflows and activities.
func (b *testBundle) openWorker(t *testing.T) {
	t.Helper()
	w, err := durable.Open(b.ctx, b.dsn, durable.WithPollInterval(20*time.Millisecond),
		durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	w.RegisterActivity(func(ctx context.Context, name string) (string, error) {
		if b.attempts.Add(1) == 1 {
			return "", errors.New("not ready yet")
		}
		return "prepared " + name, nil
	}, durable.WithName("Prepare"))
	w.RegisterActivity(func(ctx context.Context, card string) error {
		return errors.New("card declined")
	}, durable.WithName("Charge"))
	w.RegisterWorkflow(func(ctx context.Context, card string) error {
		ctx = durable.WithCallOptions(ctx, durable.CallOptions{RetryPolicy: &durable.RetryPolicy{InitialInterval: time.Hour}})
		return durable.Exec(ctx, "Charge", card)
	}, durable.WithName("Billing"))
	w.RegisterWorkflow(Wait)
	w.RegisterWorkflow(func(ctx context.Context, id string) (string, error) {
		if b.diverge.Load() {
			if err := durable.Sleep(ctx, time.Millisecond); err != nil {
				return "", err
			}
		} else if _, err := durable.Call[string](ctx, "Prepare", id); err != nil {
			return "", err
		}
		v, err := durable.Receive[string](ctx, "go")
		if err != nil {
			return "", err
		}
		return id + " shipped " + v, nil
	}, durable.WithName("Shipment"))
	b.worker = w
}

// restartWorker closes the worker and opens another, as a deploy does:
// runs it had parked are replayed by the new one when they wake.
func (b *testBundle) restartWorker(t *testing.T) {
	t.Helper()
	require.NoError(t, b.worker.Close())
	b.openWorker(t)
}

// start starts a Wait run and waits until it waits for its signal.
func (b *testBundle) start(t *testing.T, id string) {
	t.Helper()
	_, err := b.client.Start(b.ctx, durable.StartOptions{ID: id, SearchAttributes: map[string]any{"Team": "ops"}}, "Wait", id)
	require.NoError(t, err)
	b.waitStatus(t, id, func(info *durable.RunInfo) bool { return info.JournalLen >= 3 })
}

func (b *testBundle) waitStatus(t *testing.T, id string, cond func(*durable.RunInfo) bool) *durable.RunInfo {
	t.Helper()
	var info *durable.RunInfo
	require.Eventually(t, func() bool {
		var err error
		info, err = b.client.Describe(b.ctx, id)
		require.NoError(t, err)
		return cond(info)
	}, 20*time.Second, 10*time.Millisecond)
	return info
}

// get fetches a page with client c and returns its status and body.
func get(t *testing.T, c *http.Client, u string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func post(t *testing.T, c *http.Client, u string, form url.Values, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// noRedirect is an HTTP client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func TestPages(t *testing.T) {
	t.Parallel()
	b := setup(t, durableui.Options{})
	b.start(t, "page-1")

	code, body := get(t, http.DefaultClient, b.srv.URL+"/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `href="/runs/page-1?run=`)
	require.Regexp(t, `<b>1</b>running`, body)

	code, body = get(t, http.DefaultClient, b.srv.URL+"/?status=completed")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "No runs match.")

	code, body = get(t, http.DefaultClient, b.srv.URL+"/runs/page-1")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "activity Prepare #")
	require.Contains(t, body, "(attempt 2)")
	require.Contains(t, body, `Search attribute Team`)

	// The worker's engine answers queries; the client-only one cannot.
	code, body = get(t, http.DefaultClient, b.srv.URL+"/runs/page-1?query=progress")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="query-error"`)
	require.Contains(t, body, "is not registered on this engine")
	worker := httptest.NewServer(durableui.New(b.worker, durableui.Options{}))
	t.Cleanup(worker.Close)
	_, body = get(t, http.DefaultClient, worker.URL+"/runs/page-1?query=progress")
	require.Contains(t, body, `<pre id="query-result">&#34;waiting for go&#34;</pre>`)

	// Paging: a page of one run links to the next.
	b.start(t, "page-0")
	_, body = get(t, http.DefaultClient, b.srv.URL+"/?limit=1&prefix=page-")
	require.Contains(t, body, "page-0")
	require.NotContains(t, body, ">page-1<")
	next := regexp.MustCompile(`id="next" href="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, next, "a next-page link")
	_, body = get(t, http.DefaultClient, b.srv.URL+html.UnescapeString(next[1]))
	require.Contains(t, body, ">page-1<")
	require.NotContains(t, body, ">page-0<")
	_, body = get(t, http.DefaultClient, b.srv.URL+"/?since=1h")
	require.Contains(t, body, ">page-0<")
	_, body = get(t, http.DefaultClient, b.srv.URL+"/?since=2999-01-01")
	require.Contains(t, body, "No runs match.")
	_, body = get(t, http.DefaultClient, b.srv.URL+"/?since=yesterday")
	require.Contains(t, body, "want a duration ago")

	// Workflow IDs with slashes, spaces and markup round-trip in links
	// and actions, escaped.
	odd := "orders/2026 <b>#7</b>"
	b.start(t, odd)
	_, body = get(t, http.DefaultClient, b.srv.URL+"/?prefix="+url.QueryEscape("orders/"))
	link := regexp.MustCompile(`href="(/runs/orders[^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, link)
	require.NotContains(t, body, "<b>#7</b>")
	code, body = get(t, http.DefaultClient, b.srv.URL+html.UnescapeString(link[1]))
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "orders/2026 &lt;b&gt;#7&lt;/b&gt;")
	action := regexp.MustCompile(`action="(/runs/[^"]+/cancel)"`).FindStringSubmatch(body)
	require.NotNil(t, action)
	csrf := csrfField.FindStringSubmatch(body)[1]
	require.Equal(t, http.StatusSeeOther, post(t, noRedirect, b.srv.URL+html.UnescapeString(action[1]), url.Values{"csrf": {csrf}}))
	b.waitStatus(t, odd, func(info *durable.RunInfo) bool { return info.Status == "canceled" })

	// A reset run links to the run it was reset from.
	first, err := b.client.Describe(b.ctx, "page-1")
	require.NoError(t, err)
	_, err = b.client.Reset(b.ctx, durable.ResetOptions{WorkflowID: "page-1", Event: 1})
	require.NoError(t, err)
	_, body = get(t, http.DefaultClient, b.srv.URL+"/runs/page-1")
	require.Contains(t, body, `id="reset-from">`+first.RunID+`</a> at event 1`)
	_, body = get(t, http.DefaultClient, b.srv.URL+"/runs/page-1?run="+first.RunID)
	require.Contains(t, body, `<span class="status terminated" id="status">terminated</span>`)

	code, _ = get(t, http.DefaultClient, b.srv.URL+"/runs/nope")
	require.Equal(t, http.StatusNotFound, code)
}

func TestActionsNeedTheCSRFTokenAndSameOrigin(t *testing.T) {
	t.Parallel()
	b := setup(t, durableui.Options{})
	b.start(t, "csrf-1")
	_, body := get(t, http.DefaultClient, b.srv.URL+"/runs/csrf-1")
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "the run page has action forms with a CSRF token")
	token := m[1]

	// The group returns once its parallel subtests have run.
	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			form   url.Values
			header []string
		}{
			{"NoToken", url.Values{}, nil},
			{"WrongToken", url.Values{"csrf": {strings.Repeat("0", len(token))}}, nil},
			{"CrossSite", url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}},
			{"OtherOrigin", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				code := post(t, noRedirect, b.srv.URL+"/runs/csrf-1/cancel", tc.form, tc.header...)
				require.Equal(t, http.StatusForbidden, code)
			})
		}
	})
	code, body := get(t, http.DefaultClient, b.srv.URL+"/runs/csrf-1/cancel")
	require.Equal(t, http.StatusMethodNotAllowed, code, "actions are POSTs only: %s", body)
	h, err := b.client.History(b.ctx, "csrf-1", "")
	require.NoError(t, err)
	require.Equal(t, "running", h.Run.Status)
	require.Empty(t, h.Inbox, "no refused request reached the run")
	for _, ev := range h.Events {
		require.NotEqual(t, "CancelRequested", ev.Kind, "no refused request reached the run")
	}

	// With the token, from the same origin, the action goes through.
	code = post(t, noRedirect, b.srv.URL+"/runs/csrf-1/cancel", url.Values{"csrf": {token}}, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, code)
	b.waitStatus(t, "csrf-1", func(info *durable.RunInfo) bool { return info.Status == "canceled" })
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	const token = "correct-horse-battery-staple"
	t.Run("Token", func(t *testing.T) {
		t.Parallel()
		b := setup(t, durableui.Options{Token: token})
		b.start(t, "auth-1")
		code, _ := get(t, noRedirect, b.srv.URL+"/")
		require.Equal(t, http.StatusSeeOther, code, "a browser without the token goes to the login page")
		code, _ = get(t, noRedirect, b.srv.URL+"/runs/auth-1", "Authorization", "Bearer wrong-token-wrong-token")
		require.Equal(t, http.StatusSeeOther, code)
		code, body := get(t, noRedirect, b.srv.URL+"/runs/auth-1", "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusOK, code)
		csrf := csrfField.FindStringSubmatch(body)[1]

		// An action without the token changes nothing, even with the
		// CSRF token.
		code = post(t, noRedirect, b.srv.URL+"/runs/auth-1/terminate", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusUnauthorized, code)
		h, err := b.client.History(b.ctx, "auth-1", "")
		require.NoError(t, err)
		require.Equal(t, "running", h.Run.Status)
		require.Empty(t, h.Inbox)
		for _, ev := range h.Events {
			require.NotEqual(t, "Terminated", ev.Kind)
		}

		// The login form sets a cookie that is not the token.
		code = post(t, noRedirect, b.srv.URL+"/login", url.Values{"token": {"nope"}})
		require.Equal(t, http.StatusSeeOther, code)
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		cookies := resp.Cookies()
		require.Len(t, cookies, 1)
		require.NotContains(t, cookies[0].Value, token)
		require.True(t, cookies[0].HttpOnly)
		code, _ = get(t, noRedirect, b.srv.URL+"/", "Cookie", cookies[0].Name+"="+cookies[0].Value)
		require.Equal(t, http.StatusOK, code)

		code = post(t, noRedirect, b.srv.URL+"/runs/auth-1/terminate", url.Values{"csrf": {csrf}}, "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusSeeOther, code)
		b.waitStatus(t, "auth-1", func(info *durable.RunInfo) bool { return info.Status == "terminated" })
	})
	t.Run("BasicAuth", func(t *testing.T) {
		t.Parallel()
		b := setup(t, durableui.Options{User: "ops", Password: "pa55word-long"})
		code, _ := get(t, noRedirect, b.srv.URL+"/")
		require.Equal(t, http.StatusUnauthorized, code)
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/", nil)
		req.SetBasicAuth("ops", "wrong")
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
		req.SetBasicAuth("ops", "pa55word-long")
		resp, err = noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func TestPrefixAndRedaction(t *testing.T) {
	t.Parallel()
	b := setup(t, durableui.Options{Prefix: "/ops/durable", RedactFunc: func(s string) string { return strings.ReplaceAll(s, "page", "[redacted]") }})
	b.start(t, "page-2")
	code, body := get(t, http.DefaultClient, b.srv.URL+"/ops/durable/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `href="/ops/durable/runs/page-2?run=`)
	code, body = get(t, http.DefaultClient, b.srv.URL+"/ops/durable/runs/page-3")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, body, "[redacted]-3")
	require.NotContains(t, body, "page-3")
}
