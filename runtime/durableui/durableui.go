// Package durableui is the web UI of a durable store as an http.Handler:
// a runs list with filters and counts by status, and a run page with its
// timeline, input, result or error, pending activities with their attempts,
// and actions (signal, query, cancel, terminate, resume a stuck run).
// `durable ui` serves it; an application mounts it in its own server:
//
//	mux.Handle("/durable/", durableui.New(engine, durableui.Options{Prefix: "/durable"}))
//
// Mounted in a worker process, the UI answers queries from the runs that
// process has loaded or can replay, which the stand-alone CLI cannot.
//
// Pages are rendered on the server from templates embedded in the binary;
// there is no JavaScript build. Actions are POSTs checked twice against
// cross-site requests: net/http.CrossOriginProtection (Sec-Fetch-Site and
// Origin headers) and a CSRF token embedded in each form. Options.Token or
// Options.User and Password require authentication, compared in constant
// time; the handler itself never decides where it listens.
package durableui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/durablego/toolkit/runtime/durable"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configure the UI.
type Options struct {
	// Prefix is the path the handler is mounted under ("/durable"), so
	// that its links and redirects point inside it; "": the root. The
	// handler strips it from requests itself.
	Prefix string
	// Token, when set, is required: as "Authorization: Bearer TOKEN", or
	// once through the login form, which sets a cookie.
	Token string
	// User and Password, when set, require HTTP basic authentication.
	User, Password string
	// Logger receives a line per failed action; nil: slog.Default().
	Logger *slog.Logger
	// RedactFunc, when set, cleans every error message before it is
	// shown or logged (durable ui passes one that removes the store's
	// credentials).
	RedactFunc func(string) string
}

// handler serves the UI.
type handler struct {
	e    *durable.Engine
	o    Options
	tmpl *template.Template
	csrf string // token every action form carries
	mux  *http.ServeMux
}

// New returns the UI over e's store. e is usually client-only; an engine
// that works runs (a worker's) also answers queries of its workflows.
func New(e *durable.Engine, o Options) http.Handler {
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RedactFunc == nil {
		o.RedactFunc = func(s string) string { return s }
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	h := &handler{e: e, o: o, csrf: hex.EncodeToString(b[:]), mux: http.NewServeMux()}
	h.tmpl = template.Must(template.New("").Funcs(h.funcs()).ParseFS(templateFS, "templates/*.html"))
	h.mux.HandleFunc("GET /{$}", h.runs)
	h.mux.HandleFunc("GET /runs/{id}", h.run)
	h.mux.HandleFunc("POST /runs/{id}/{action}", h.action)
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	var next http.Handler = h.mux
	next = h.authenticate(next)
	cop := http.NewCrossOriginProtection()
	next = cop.Handler(next)
	next = securityHeaders(next)
	if o.Prefix != "" {
		next = http.StripPrefix(o.Prefix, next)
	}
	return next
}

// securityHeaders keeps pages out of frames and off caches and forbids
// scripts and remote content.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// cookieName holds the token-derived session of a browser that logged in.
const cookieName = "durable_ui"

// authenticate requires the configured credentials: basic auth, or the
// token as a bearer token or a cookie set by the login form.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.o.User != "" || h.o.Password != "" {
			u, p, ok := r.BasicAuth()
			if !ok || !equal(u, h.o.User) || !equal(p, h.o.Password) {
				w.Header().Set("WWW-Authenticate", `Basic realm="durable", charset="UTF-8"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		if h.o.Token != "" && r.URL.Path != "/login" {
			ok := false
			if bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
				ok = equal(bearer, h.o.Token)
			}
			if c, err := r.Cookie(cookieName); err == nil && !ok {
				ok = equal(c.Value, h.session())
			}
			if !ok {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, h.o.Prefix+"/login", http.StatusSeeOther)
					return
				}
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// session is the cookie value of a browser that gave the token: a hash of
// it, so that the cookie is not the token itself.
func (h *handler) session() string {
	sum := sha256.Sum256([]byte("durable-ui-session\x00" + h.o.Token))
	return hex.EncodeToString(sum[:])
}

// equal compares secrets in constant time.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, "login.html", map[string]any{"Failed": r.URL.Query().Has("failed")})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if h.o.Token == "" || !equal(r.PostFormValue("token"), h.o.Token) {
		http.Redirect(w, r, h.o.Prefix+"/login?failed", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: h.session(), Path: h.o.Prefix + "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, h.o.Prefix+"/", http.StatusSeeOther)
}
