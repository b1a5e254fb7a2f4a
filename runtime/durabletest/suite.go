package durabletest

import (
	"maps"
	"sync"
	"testing"

	"github.com/durablego/toolkit/runtime/durable"
)

// WorkflowTestSuite holds what Temporal's testsuite.WorkflowTestSuite sets
// for every environment it makes: the header (SetHeader) and the logger
// (SetLogger). The converter keeps it where a test suite that sets either
// embedded Temporal's, and turns the suite's NewTestWorkflowEnvironment
// into NewEnv. Its zero value sets nothing.
type WorkflowTestSuite struct {
	mu     sync.Mutex
	header durable.Header
	logger KeyValueLogger
}

// SetHeader sets the header every Env the suite makes from now on starts
// its workflow with (Env.SetHeader).
func (s *WorkflowTestSuite) SetHeader(h durable.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = maps.Clone(h)
}

// NewEnv returns an Env for one test (the package's NewEnv) with the
// suite's header.
func (s *WorkflowTestSuite) NewEnv(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	if o := s.loggerOption(); o != nil {
		opts = append(opts, o)
	}
	e := NewEnv(tb, opts...)
	s.mu.Lock()
	h := s.header
	s.mu.Unlock()
	if h != nil {
		e.SetHeader(h)
	}
	return e
}
