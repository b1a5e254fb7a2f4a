package temporal

import (
	"fmt"
	"go/token"
)

// Severity says whether a finding needs a person.
type Severity string

const (
	// SeverityTODO marks code left in place for a person to convert.
	SeverityTODO Severity = "todo"
	// SeverityError marks a package that could not be loaded or type-checked.
	SeverityError Severity = "error"
	// SeverityNote is informational: the conversion made a choice worth reviewing.
	SeverityNote Severity = "note"
)

// Finding is one diagnostic of a conversion, positioned like vet's output.
type Finding struct {
	Pos      token.Position `json:"-"`
	File     string         `json:"file"`
	Line     int            `json:"line"`
	Column   int            `json:"column"`
	Rule     string         `json:"rule"`
	Severity Severity       `json:"severity"`
	Message  string         `json:"message"`
	// Anchor is the section of docs/unsupported.md that explains what to do.
	Anchor string `json:"anchor,omitempty"`
}

// String formats f as "file:line:col: rule: message", leaving out a line or
// column that is not known.
func (f Finding) String() string {
	var s string
	switch {
	case f.Line == 0:
		s = fmt.Sprintf("%s: %s: %s", f.File, f.Rule, f.Message)
	case f.Column == 0:
		s = fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
	default:
		s = fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Column, f.Rule, f.Message)
	}
	if f.Anchor != "" {
		s += " (see docs/unsupported.md#" + f.Anchor + ")"
	}
	return s
}

func newFinding(pos token.Position, rule string, sev Severity, msg, anchor string) Finding {
	return Finding{Pos: pos, File: pos.Filename, Line: pos.Line, Column: pos.Column,
		Rule: rule, Severity: sev, Message: msg, Anchor: anchor}
}
