package durable

import (
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/durablego/toolkit/internal/journal"
)

// RetryPolicy says how a failed activity (or child workflow) is retried.
// Zero fields take Temporal's defaults.
type RetryPolicy struct {
	// InitialInterval is the wait before the first retry. Default 1s.
	InitialInterval time.Duration
	// BackoffCoefficient multiplies the wait after each retry. Default 2.0.
	BackoffCoefficient float64
	// MaximumInterval caps the wait. Default 100 × InitialInterval.
	MaximumInterval time.Duration
	// MaximumAttempts counts the first attempt; 0 means unlimited.
	MaximumAttempts int
	// NonRetryableErrorTypes lists error types that are never retried: the
	// bare Go type name of the returned error ("PermanentError" for a
	// *pkg.PermanentError) or an ApplicationError's Type.
	NonRetryableErrorTypes []string
}

// Defaults of RetryPolicy's zero fields.
const (
	RetryInitialIntervalDefault    = time.Second
	RetryBackoffCoefficientDefault = 2.0
	RetryMaximumIntervalFactor     = 100
)

// backoff returns the wait before attempt+1 and whether there is one,
// given the failure of attempt (1-based).
func (p *RetryPolicy) backoff(f *journal.Failure, attempt int) (time.Duration, bool) {
	if !retryable(p, f) {
		return 0, false
	}
	var rp RetryPolicy
	if p != nil {
		rp = *p
	}
	if rp.MaximumAttempts > 0 && attempt >= rp.MaximumAttempts {
		return 0, false
	}
	initial := rp.InitialInterval
	if initial <= 0 {
		initial = RetryInitialIntervalDefault
	}
	coef := rp.BackoffCoefficient
	if coef < 1 {
		coef = RetryBackoffCoefficientDefault
	}
	maxI := rp.MaximumInterval
	if maxI <= 0 {
		maxI = initial * RetryMaximumIntervalFactor
	}
	d := float64(initial) * math.Pow(coef, float64(attempt-1))
	if d > float64(maxI) || math.IsInf(d, 0) || math.IsNaN(d) {
		return maxI, true
	}
	return time.Duration(d), true
}

func retryable(p *RetryPolicy, f *journal.Failure) bool {
	if f == nil || f.NonRetryable {
		return false
	}
	switch f.Kind {
	case "canceled", "terminated", "nondeterminism":
		return false
	case "timeout":
		if f.Timeout == "ScheduleToClose" || f.Timeout == "Execution" || f.Timeout == "ScheduleToStart" {
			return false
		}
		// Temporal names timeouts "TemporalTimeout:<kind>" in
		// NonRetryableErrorTypes.
		if p != nil && slices.Contains(p.NonRetryableErrorTypes, "TemporalTimeout:"+f.Timeout) {
			return false
		}
	}
	if p != nil && f.Type != "" && slices.Contains(p.NonRetryableErrorTypes, f.Type) {
		return false
	}
	return true
}

// retryPolicy is the run's workflow retry policy, or nil.
func (in *instance) retryPolicy() *RetryPolicy {
	if len(in.started.Options) == 0 {
		return nil
	}
	var o startedOptions
	if err := json.Unmarshal(in.started.Options, &o); err != nil {
		return nil
	}
	return o.RetryPolicy.policy()
}

// clone returns a copy of p (nil for nil) that a caller may change.
func (p *RetryPolicy) clone() *RetryPolicy {
	if p == nil {
		return nil
	}
	c := *p
	c.NonRetryableErrorTypes = slices.Clone(p.NonRetryableErrorTypes)
	return &c
}
