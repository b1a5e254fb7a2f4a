package compat

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
)

// Side is where a workflow execution runs.
type Side string

const (
	Temporal Side = "temporal"
	Durable  Side = "durable"
)

// Policy is the rollout policy: per workflow type, which executions run
// on the durable engine. A type without an entry stays on Temporal. It is
// plain data, so that it can live in a JSON file (see [LoadPolicy]).
type Policy struct {
	Workflows map[string]WorkflowPolicy `json:"workflows"`
}

// WorkflowPolicy routes the new executions of one workflow type.
type WorkflowPolicy struct {
	// Percent of new executions (0-100, two decimals count) that run on
	// the durable engine, chosen from a hash of the workflow ID so that
	// an ID always routes the same way and raising Percent only moves IDs
	// from Temporal to durable. 0 is off.
	Percent float64 `json:"percent"`
	// Allow lists workflow IDs that always run on the durable engine.
	Allow []string `json:"allow,omitempty"`
	// Deny lists workflow IDs that always stay on Temporal. Deny wins
	// over Allow.
	Deny []string `json:"deny,omitempty"`
	// Kill sends every new execution to Temporal whatever the rest says.
	// Executions already on the durable engine finish there.
	Kill bool `json:"kill,omitempty"`
	// Shadow is the percent of executions that run on Temporal whose
	// history is verified against the converted code once they close.
	Shadow float64 `json:"shadow,omitempty"`
}

// Decision is a routing decision and its reason.
type Decision struct {
	Side   Side
	Reason string // off, kill, deny, allow, percent, existing
}

// Decide routes a new execution of workflowType with workflowID.
func (p *Policy) Decide(workflowType, workflowID string) Decision {
	wp, ok := p.Workflows[workflowType]
	switch {
	case !ok:
		return Decision{Temporal, "off"}
	case wp.Kill:
		return Decision{Temporal, "kill"}
	case slices.Contains(wp.Deny, workflowID):
		return Decision{Temporal, "deny"}
	case slices.Contains(wp.Allow, workflowID):
		return Decision{Durable, "allow"}
	case wp.Percent > 0 && bucket("route", workflowType, workflowID) < wp.Percent:
		return Decision{Durable, "percent"}
	case wp.Percent > 0:
		return Decision{Temporal, "percent"}
	}
	return Decision{Temporal, "off"}
}

// shadowed reports whether an execution that ran on Temporal is sampled
// for shadow verification.
func (p *Policy) shadowed(workflowType, workflowID string) bool {
	wp, ok := p.Workflows[workflowType]
	return ok && wp.Shadow > 0 && bucket("shadow", workflowType, workflowID) < wp.Shadow
}

// bucket maps an ID to [0, 100) with two decimals, stably.
func bucket(salt, workflowType, workflowID string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s", salt, workflowType, workflowID)
	return float64(h.Sum64()%10000) / 100
}

// Validate checks percentages.
func (p *Policy) Validate() error {
	for name, wp := range p.Workflows {
		if wp.Percent < 0 || wp.Percent > 100 {
			return fmt.Errorf("compat: policy for %s: percent %v is outside 0-100", name, wp.Percent)
		}
		if wp.Shadow < 0 || wp.Shadow > 100 {
			return fmt.Errorf("compat: policy for %s: shadow %v is outside 0-100", name, wp.Shadow)
		}
	}
	return nil
}

// LoadPolicy reads a policy from a JSON file:
//
//	{"workflows": {"OrderWorkflow": {"percent": 5, "deny": ["order-vip"], "shadow": 20}}}
func LoadPolicy(path string) (Policy, error) {
	var p Policy
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("compat: load policy: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("compat: load policy %s: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w (in %s)", err, path)
	}
	return p, nil
}
