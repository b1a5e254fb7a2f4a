package durableui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// statuses in the order the runs page shows their counts.
var statuses = []string{"running", "stuck", "completed", "failed", "canceled", "terminated", "continued"}

func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02 15:04:05")
		},
		"clock": func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		"pretty": func(raw json.RawMessage) string {
			if len(raw) == 0 {
				return ""
			}
			var b bytes.Buffer
			if json.Indent(&b, raw, "", "  ") != nil {
				return string(raw)
			}
			return b.String()
		},
		"errText": func(err error) string {
			if err == nil {
				return ""
			}
			return h.o.RedactFunc(err.Error())
		},
		"path": func(p string) string { return h.o.Prefix + p },
		"runPath": func(id string) string {
			return h.o.Prefix + "/runs/" + url.PathEscape(id)
		},
		"csrf": func() string { return h.csrf },
		"join": func(vs []string) string { return strings.Join(vs, ",") },
		"nextQuery": func(q url.Values, page string) string {
			v := cloneValues(q)
			v.Set("page", page)
			return h.o.Prefix + "/?" + v.Encode()
		},
	}
}

// render executes a page template; a failure is logged (the page may be
// half-written).
func (h *handler) render(w http.ResponseWriter, name string, data any) {
	var b bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		h.o.Logger.Error("durableui: render", "page", name, "error", h.o.RedactFunc(err.Error()))
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// fail shows an error page.
func (h *handler) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, durable.ErrNotFound) {
		code = http.StatusNotFound
	}
	w.WriteHeader(code)
	h.render(w, "error.html", map[string]any{"Error": h.o.RedactFunc(err.Error()), "Code": code})
}

// runsPage is the data of the runs list.
type runsPage struct {
	Filter    url.Values
	Counts    []statusCount
	Total     int64
	Runs      []*durable.RunInfo
	NextPage  string
	Error     string
	Workflows string
}

type statusCount struct {
	Status   string
	N        int64
	Selected bool
	Link     string
}

func (h *handler) runs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := durable.ListOptions{
		Statuses: nonEmpty(q["status"]), Workflows: nonEmpty(q["workflow"]), Queues: nonEmpty(q["queue"]),
		IDPrefix: q.Get("prefix"), PageToken: q.Get("page"),
	}
	if attr := q.Get("attr"); attr != "" {
		o.SearchAttributes = map[string]any{}
		for _, kv := range strings.Fields(attr) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			if json.Valid([]byte(v)) {
				o.SearchAttributes[k] = json.RawMessage(v)
			} else {
				o.SearchAttributes[k] = v
			}
		}
	}
	data := &runsPage{Filter: q}
	var err error
	if n, perr := strconv.Atoi(q.Get("limit")); perr == nil && n > 0 {
		o.PageSize = min(n, 500)
	}
	if o.CreatedAfter, err = parseSince(q.Get("since"), time.Now()); err != nil {
		data.Error = err.Error()
		h.render(w, "runs.html", data)
		return
	}
	counts, err := h.e.Count(r.Context(), o)
	if err == nil {
		var page *durable.RunPage
		page, err = h.e.List(r.Context(), o)
		if err == nil {
			data.Runs, data.NextPage = page.Runs, page.NextPageToken
		}
	}
	if err != nil {
		data.Error = h.o.RedactFunc(err.Error())
	}
	for _, s := range statuses {
		link := cloneValues(q)
		link.Del("page")
		selected := slices.Contains(o.Statuses, s)
		if selected {
			link.Del("status")
		} else {
			link.Set("status", s)
		}
		data.Counts = append(data.Counts, statusCount{Status: s, N: counts[s], Selected: selected, Link: h.o.Prefix + "/?" + link.Encode()})
		data.Total += counts[s]
	}
	h.render(w, "runs.html", data)
}

// parseSince reads the runs page's "created since" filter: a duration
// before now (24h) or an RFC 3339 time or date.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("created since %q: want a duration ago (24h) or a time (2026-01-02T15:04:05Z)", s)
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// runPage is the data of a run's page.
type runPage struct {
	H           *durable.History
	Stuck       bool
	Open        bool
	Message     string
	Failed      bool
	QueryName   string
	QueryArgs   string
	QueryResult string
	QueryError  string
	RunParam    string
}

func (h *handler) run(w http.ResponseWriter, r *http.Request) {
	id, runID := r.PathValue("id"), r.URL.Query().Get("run")
	hist, err := h.e.History(r.Context(), id, runID)
	if err != nil {
		h.fail(w, err)
		return
	}
	q := r.URL.Query()
	data := &runPage{
		H: hist, Stuck: hist.Run.Status == "stuck", Open: hist.Run.Status == "running" || hist.Run.Status == "stuck",
		Message: q.Get("msg"), Failed: q.Get("failed") != "", RunParam: runID,
	}
	if name := q.Get("query"); name != "" {
		data.QueryName, data.QueryArgs = name, q.Get("args")
		args, err := parseArgs(data.QueryArgs)
		if err == nil {
			var v durable.Value
			if v, err = h.e.QueryWorkflow(r.Context(), id, hist.Run.RunID, name, args...); err == nil {
				var raw json.RawMessage
				if err = v.Get(&raw); err == nil {
					var b bytes.Buffer
					if json.Indent(&b, raw, "", "  ") == nil {
						raw = b.Bytes()
					}
					data.QueryResult = string(raw)
				}
			}
		}
		if err != nil {
			data.QueryError = h.o.RedactFunc(err.Error())
		}
	}
	h.render(w, "run.html", data)
}

// parseArgs reads whitespace-free JSON values, one per line or as one JSON
// array prefixed by nothing: each line of s is one argument.
func parseArgs(s string) ([]any, error) {
	var out []any
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !json.Valid([]byte(line)) {
			return nil, fmt.Errorf("argument %q is not JSON (quote strings: \"text\")", line)
		}
		out = append(out, json.RawMessage(line))
	}
	return out, nil
}

// action performs a POSTed action and redirects to the run's page.
func (h *handler) action(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	if !equal(r.PostFormValue("csrf"), h.csrf) {
		http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
		return
	}
	ctx := r.Context()
	runID := r.PostFormValue("run")
	var (
		err error
		msg string
	)
	switch action {
	case "signal":
		name := strings.TrimSpace(r.PostFormValue("name"))
		arg := strings.TrimSpace(r.PostFormValue("arg"))
		if arg == "" {
			arg = "null"
		}
		switch {
		case name == "":
			err = errors.New("a signal needs a name")
		case !json.Valid([]byte(arg)):
			err = fmt.Errorf("the signal's argument %q is not JSON (quote strings: \"text\")", arg)
		default:
			err = h.e.SignalWorkflow(ctx, id, runID, name, json.RawMessage(arg))
			msg = "signal " + name + " sent"
		}
	case "cancel":
		err = h.e.CancelWorkflow(ctx, id, runID)
		msg = "cancellation requested"
	case "terminate":
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		if reason == "" {
			reason = "terminated from the web UI"
		}
		err = h.e.TerminateRun(ctx, id, runID, reason)
		msg = "terminated"
	case "resume":
		err = h.e.Resume(ctx, id)
		msg = "resumed: a worker replays the run with the code it has now"
	default:
		http.NotFound(w, r)
		return
	}
	v := url.Values{}
	if err != nil {
		h.o.Logger.Warn("durableui: action failed", "action", action, "workflow_id", id, "error", h.o.RedactFunc(err.Error()))
		v.Set("msg", h.o.RedactFunc(err.Error()))
		v.Set("failed", "1")
	} else {
		h.o.Logger.Info("durableui: action", "action", action, "workflow_id", id)
		v.Set("msg", msg)
	}
	http.Redirect(w, r, h.o.Prefix+"/runs/"+url.PathEscape(id)+"?"+v.Encode(), http.StatusSeeOther)
}
