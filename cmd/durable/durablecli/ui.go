package durablecli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/durablego/toolkit/runtime/durableui"
)

// Environment variables the ui command reads its credentials from (never
// flags: command lines show in ps).
const (
	UITokenEnv    = "DURABLE_UI_TOKEN"
	UIUserEnv     = "DURABLE_UI_USER"
	UIPasswordEnv = "DURABLE_UI_PASSWORD"
)

// UIAddrDefault is where durable ui listens unless --addr says otherwise.
const UIAddrDefault = "127.0.0.1:8233"

type uiOptions struct {
	addr        string
	allowRemote bool
	tokenFile   string
	metrics     bool // ui: serve /metrics too (metrics.go)
}

func newUICmd(a *app) *cobra.Command {
	var o uiOptions
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the web UI (runs list, run pages, actions) on loopback",
		Long: `Serve the web UI: the runs list with filters and counts by status, and each
run's page with its timeline, input, result or error, pending activities and
actions (signal, cancel, terminate, resume a stuck run).

It listens on ` + UIAddrDefault + ` (loopback) by default. Listening on any other
address needs --allow-remote and authentication: a token ($` + UITokenEnv + ` or
--token-file), or basic auth ($` + UIUserEnv + ` and $` + UIPasswordEnv + `). Put it behind
TLS (a reverse proxy) when it leaves the machine.

It also serves the store's metrics for Prometheus at /metrics (see durable
metrics), behind the same authentication; --metrics=false turns that off.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.serveUI(ctx, cmd, &o)
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", UIAddrDefault, "HOST:PORT to listen on")
	cmd.Flags().BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback --addr (requires a token or basic auth)")
	cmd.Flags().StringVar(&o.tokenFile, "token-file", "", "file holding the access token (instead of $"+UITokenEnv+")")
	cmd.Flags().BoolVar(&o.metrics, "metrics", true, "serve the store's metrics for Prometheus at /metrics")
	return cmd
}

// loopback reports whether addr's host only accepts local connections.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// uiAuth reads the UI's credentials and checks them against the address.
func (a *app) uiAuth(o *uiOptions) (durableui.Options, error) {
	var uo durableui.Options
	uo.Token = a.cfg.GetenvFunc(UITokenEnv)
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return uo, usageErr("--token-file: %w", err)
		}
		uo.Token = strings.TrimSpace(string(b))
	}
	uo.User, uo.Password = a.cfg.GetenvFunc(UIUserEnv), a.cfg.GetenvFunc(UIPasswordEnv)
	if (uo.User == "") != (uo.Password == "") {
		return uo, usageErr("basic auth needs both $%s and $%s", UIUserEnv, UIPasswordEnv)
	}
	if uo.Token != "" && len(uo.Token) < 16 {
		return uo, usageErr("the access token is too short (16 characters or more)")
	}
	if !loopback(o.addr) {
		if !o.allowRemote {
			return uo, usageErr("--addr %s is not a loopback address: pass --allow-remote (with a token or basic auth) to listen there", o.addr)
		}
		if uo.Token == "" && uo.User == "" {
			return uo, usageErr("--allow-remote needs authentication: set $%s (or --token-file), or $%s and $%s", UITokenEnv, UIUserEnv, UIPasswordEnv)
		}
	}
	return uo, nil
}

func (a *app) serveUI(ctx context.Context, cmd *cobra.Command, o *uiOptions) error {
	uo, err := a.uiAuth(o)
	if err != nil {
		return err
	}
	e, err := a.open(ctx)
	if err != nil {
		return err
	}
	dsn := a.effectiveDSN()
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	uo.Logger = logger
	uo.RedactFunc = func(s string) string { return Redact(s, dsn) }
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	handler := durableui.New(e, uo)
	if o.metrics {
		mh, release, err := metricsHandler(e, uo) // metrics.go
		if err != nil {
			return err
		}
		defer release()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", mh)
		mux.Handle("/", handler)
		handler = mux
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	auth := "none (loopback only)"
	switch {
	case uo.Token != "" && uo.User != "":
		auth = "token and basic auth"
	case uo.Token != "":
		auth = "token"
	case uo.User != "":
		auth = "basic auth"
	}
	logger.Info("durable ui: serving", "url", "http://"+ln.Addr().String()+"/", "store", RedactDSN(dsn), "auth", auth)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
