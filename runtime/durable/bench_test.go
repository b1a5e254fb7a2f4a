package durable_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/durablego/toolkit/runtime/durable"
)

// Exchange runs coroutines that pass messages round a ring of channels
// inside one run, with a selector in every hop: the scheduler's hot path.
func Exchange(ctx context.Context, coroutines, messages int) (int, error) {
	chans := make([]durable.Channel[int], coroutines)
	for i := range chans {
		chans[i] = durable.NewBufferedChannel[int](ctx, 1)
	}
	done := durable.NewChannel[int](ctx)
	perHop := messages / coroutines
	for i := range coroutines {
		in, out := chans[i], chans[(i+1)%coroutines]
		durable.Go(ctx, func(ctx context.Context) {
			sum := 0
			sel := durable.NewSelector(ctx)
			sel.AddReceive(in, func(durable.Receiver, bool) {
				v, _ := in.Receive(ctx)
				sum += v
				if i != coroutines-1 || sum < perHop {
					out.Send(ctx, 1)
				}
			})
			for range perHop {
				sel.Select(ctx)
			}
			done.Send(ctx, sum)
		})
	}
	chans[0].Send(ctx, 1)
	total := 0
	for range coroutines {
		v, _ := done.Receive(ctx)
		total += v
	}
	return total, nil
}

// BenchmarkSelectHeavy reports the cost of one message hop with 10, 100 and
// 1,000 coroutines exchanging 100,000 messages in one run: flat per-message
// cost means no quadratic behaviour in the number of coroutines.
func BenchmarkSelectHeavy(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("coroutines=%d", n), func(b *testing.B) {
			ctx := context.Background()
			e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			e.RegisterWorkflow(Exchange)
			const messages = 100_000
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run, err := e.Start(ctx, durable.StartOptions{ID: fmt.Sprint("x", n, "-", i)}, Exchange, n, messages)
				if err != nil {
					b.Fatal(err)
				}
				var total int
				if err := run.Get(ctx, &total); err != nil {
					b.Fatal(err)
				}
				if total != messages/n*n {
					b.Fatalf("total %d, want %d", total, messages/n*n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*messages), "ns/message")
		})
	}
}

// BenchmarkSteps3Telemetry reports the cost of a steps3 run (three
// activity calls) without telemetry (Off), with OpenTelemetry's noop
// providers (Noop, which the engine treats as none) and with the SDK's
// providers and exporters that drop what they get (SDKMetrics, SDKTraces,
// and both: SDK), which measures the instrumentation itself: on an in-memory store, where nothing hides it,
// and on an SQLite file (without fsync), the default store.
func BenchmarkSteps3Telemetry(b *testing.B) {
	cases := []struct {
		name string
		opts func() []durable.Option
	}{
		{"Off", func() []durable.Option { return nil }},
		{"Noop", func() []durable.Option {
			return []durable.Option{durable.WithMeterProvider(metricnoop.NewMeterProvider()), durable.WithTracerProvider(tracenoop.NewTracerProvider())}
		}},
		{"SDKMetrics", func() []durable.Option {
			return []durable.Option{durable.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())))}
		}},
		{"SDKTraces", func() []durable.Option {
			return []durable.Option{durable.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter())))}
		}},
		{"SDK", func() []durable.Option {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			return []durable.Option{durable.WithMeterProvider(mp), durable.WithTracerProvider(tp)}
		}},
	}
	for _, store := range []string{"memory", "sqlite"} {
		for _, c := range cases {
			b.Run(store+"/"+c.name, func(b *testing.B) {
				ctx := context.Background()
				dsn := "memory:"
				if store == "sqlite" {
					dsn = "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
				}
				e, err := durable.Open(ctx, dsn, append(c.opts(), durable.WithLogger(slog.New(slog.DiscardHandler)))...)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				e.RegisterWorkflow(Steps3)
				e.RegisterActivity(Dot)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					run, err := e.Start(ctx, durable.StartOptions{ID: fmt.Sprint("s", i)}, Steps3, "x")
					if err != nil {
						b.Fatal(err)
					}
					if err := run.Get(ctx, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
