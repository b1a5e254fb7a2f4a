package durablecli

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durableui"
)

// MetricsAddrDefault is where durable metrics listens unless --addr says
// otherwise (the port OpenTelemetry's Prometheus exporter uses by
// convention).
const MetricsAddrDefault = "127.0.0.1:9464"

// MetricStoreRuns is the gauge of the store's runs by status that the
// CLI's /metrics endpoint reports (durable_store_runs in Prometheus).
const MetricStoreRuns = "durable.store.runs"

// metricsCountTimeout bounds the store query behind one scrape.
const metricsCountTimeout = 10 * time.Second

func newMetricsCmd(a *app) *cobra.Command {
	var o uiOptions
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Serve the store's metrics for Prometheus at /metrics, on loopback",
		Long: `Serve a Prometheus endpoint at /metrics: the store's runs by status
(` + MetricStoreRuns + `, in Prometheus durable_store_runs{status="..."}), read from
the store at each scrape. durable ui serves the same endpoint beside the UI.
Workers report their own metrics through the OpenTelemetry meter provider
they open the engine with (docs/telemetry.md).

It listens on ` + MetricsAddrDefault + ` (loopback) by default. Listening on any other
address needs --allow-remote and authentication, as for durable ui: a token
($` + UITokenEnv + ` or --token-file; Prometheus sends it with
authorization.credentials), or basic auth ($` + UIUserEnv + ` and $` + UIPasswordEnv + `).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.serveMetrics(ctx, cmd, &o)
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", MetricsAddrDefault, "HOST:PORT to listen on")
	cmd.Flags().BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback --addr (requires a token or basic auth)")
	cmd.Flags().StringVar(&o.tokenFile, "token-file", "", "file holding the access token (instead of $"+UITokenEnv+")")
	return cmd
}

// metricsHandler returns the /metrics handler over e's store, behind the
// credentials of uo, and the function that releases it.
func metricsHandler(e *durable.Engine, uo durableui.Options) (http.Handler, func(), error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	release := func() { _ = mp.Shutdown(context.Background()) }
	meter := mp.Meter(durable.TelemetryScope)
	runs, err := meter.Int64ObservableGauge(MetricStoreRuns, metric.WithDescription("Runs in the store, by status."), metric.WithUnit("{run}"))
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, metricsCountTimeout)
		defer cancel()
		counts, err := e.Count(ctx, durable.ListOptions{})
		if err != nil {
			return fmt.Errorf("count runs: %w", err)
		}
		for status, n := range counts {
			o.ObserveInt64(runs, n, metric.WithAttributes(attribute.String("status", status)))
		}
		return nil
	}, runs)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLogger{uo}, ErrorHandling: promhttp.ContinueOnError})
	return requireCredentials(h, uo), release, nil
}

// promLogger logs the endpoint's errors, redacted.
type promLogger struct{ uo durableui.Options }

func (l promLogger) Println(v ...any) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	if l.uo.RedactFunc != nil {
		msg = l.uo.RedactFunc(msg)
	}
	if l.uo.Logger != nil {
		l.uo.Logger.Warn("durable metrics: " + msg)
	}
}

// requireCredentials lets through requests with uo's token as a bearer
// token, or its basic auth credentials, compared in constant time; with
// neither configured (loopback only), every request.
func requireCredentials(next http.Handler, uo durableui.Options) http.Handler {
	if uo.Token == "" && uo.User == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		if uo.Token != "" {
			if bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
				ok = secretEqual(bearer, uo.Token)
			}
		}
		if u, p, found := r.BasicAuth(); !ok && uo.User != "" && found {
			ok = secretEqual(u, uo.User) && secretEqual(p, uo.Password)
		}
		if !ok {
			if uo.User != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="durable", charset="UTF-8"`)
			}
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// secretEqual compares secrets in constant time.
func secretEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func (a *app) serveMetrics(ctx context.Context, cmd *cobra.Command, o *uiOptions) error {
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
	h, release, err := metricsHandler(e, uo)
	if err != nil {
		return err
	}
	defer release()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	logger.Info("durable metrics: serving", "url", "http://"+ln.Addr().String()+"/metrics", "store", RedactDSN(dsn), "auth", authName(uo))
	return serveUntilDone(ctx, ln, mux, logger)
}

// authName says which credentials a server requires, for its log line.
func authName(uo durableui.Options) string {
	switch {
	case uo.Token != "" && uo.User != "":
		return "token and basic auth"
	case uo.Token != "":
		return "token"
	case uo.User != "":
		return "basic auth"
	}
	return "none (loopback only)"
}

// serveUntilDone serves h on ln until ctx ends, then shuts down.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
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
