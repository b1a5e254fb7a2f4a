package durabletest

import (
	"context"
	"sync"

	"github.com/durablego/toolkit/runtime/durable"
)

// DevServerOptions configure StartDevServer. Temporal's options (the
// server's host and port, its CLI, client options) have no counterpart: the
// engine runs in the test's process.
type DevServerOptions struct {
	// ClientOptions is accepted and ignored (Temporal's client.Options:
	// the server's address and the client's settings).
	ClientOptions any

	// EngineOptions are passed to durable.Open.
	EngineOptions []durable.Option
}

// DevServer stands in for Temporal's development server
// (testsuite.StartDevServer) in tests that start workflows through a client
// and run them on a worker: it is an engine on an in-memory store, opened
// in the test's process, which is both.
type DevServer struct {
	eng  *durable.Engine
	once sync.Once
	err  error
}

// StartDevServer opens an engine on an in-memory store (durable.Open(ctx,
// "memory:")). Stop closes it.
func StartDevServer(ctx context.Context, opts DevServerOptions) (*DevServer, error) {
	eng, err := durable.Open(ctx, "memory:", opts.EngineOptions...)
	if err != nil {
		return nil, err
	}
	return &DevServer{eng: eng}, nil
}

// Client returns the engine: Temporal's client and worker are both the
// engine (register workflows and activities on it, start runs with it).
func (s *DevServer) Client() *durable.Engine { return s.eng }

// Stop closes the engine; calling it again does nothing.
func (s *DevServer) Stop() error {
	s.once.Do(func() { s.err = s.eng.Close() })
	return s.err
}
