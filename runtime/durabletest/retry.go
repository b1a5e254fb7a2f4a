package durabletest

import (
	"cmp"

	"github.com/durablego/toolkit/runtime/durable"
)

// MaximumAttemptsDefault is the attempt limit an Env gives activities whose
// retry policy has none (unlimited), as Temporal's test environment does:
// unlimited retries in skipped time would spin until the test timeout.
const MaximumAttemptsDefault = 10

// testRetryDefaults applies Temporal's test-environment retry defaults to
// an activity call's policy: at most MaximumAttemptsDefault attempts unless
// the policy sets a limit, and a MaximumInterval of InitialInterval unless
// set. The engine calls it for every activity call (an Env passes it with
// durable.WithActivityRetryDefaults).
func testRetryDefaults(p *durable.RetryPolicy) *durable.RetryPolicy {
	if p == nil {
		p = &durable.RetryPolicy{}
	}
	if p.MaximumAttempts == 0 {
		p.MaximumAttempts = MaximumAttemptsDefault
	}
	if p.MaximumInterval == 0 {
		p.MaximumInterval = cmp.Or(p.InitialInterval, durable.RetryInitialIntervalDefault)
	}
	return p
}
