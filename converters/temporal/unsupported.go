package temporal

import (
	"go/types"
	"strings"

	"github.com/dave/dst"
)

// unsupportedRule marks the constructs the durable runtime has no
// counterpart for, before any other rule runs, so that they stay exactly as
// written: interceptors, custom data converters and Nexus. Each gets a TODO pointing at docs/unsupported.md.
var unsupportedRule = rule{
	Name: "unsupported",
	Doc:  "mark interceptors, data converters and Nexus",
	Run: func(p *pass) {
		dst.Inspect(p.file, func(n dst.Node) bool {
			switch n := n.(type) {
			case *dst.Ident:
				if anchor, what := unsupportedIdent(n); anchor != "" && !p.marked(n) {
					p.todo(n, anchor, "%s is not supported by the durable runtime", what)
				}
			case *dst.KeyValueExpr:
				if key, ok := n.Key.(*dst.Ident); ok && !p.marked(n) {
					switch key.Name {
					case "Interceptors", "WorkflowInterceptors":
						if lit, ok := p.parent(n).(*dst.CompositeLit); ok && key.Name == "Interceptors" && isIdent(lit.Type, pkgWorker, "Options") && p.convertibleInterceptors(n) {
							break // interceptor.go converts it
						}
						if p.isTemporalLit(n) {
							p.todo(n, "interceptors", "%s are not supported by the durable runtime", key.Name)
						}
					case "DataConverter", "FailureConverter", "PayloadCodec":
						if p.isTemporalLit(n) {
							p.todo(n, "data-converters", "a custom %s is not supported: payloads are JSON", key.Name)
						}
					}
				}
			case *dst.CallExpr:
				if _, recv, m := methodCall(n); recv != nil && !p.marked(n) {
					switch m {
					case "RegisterNexusService":
						if temporalRecv(p, recv) {
							p.todo(n, "nexus", "Nexus services are not supported by the durable runtime")
						}
					}
				}
			}
			return true
		})
	},
}

// temporalRecv reports whether recv's type comes from the Temporal SDK.
func temporalRecv(p *pass, recv dst.Expr) bool {
	t := p.typeOf(recv)
	return t != nil && strings.Contains(t.String(), temporalPrefix)
}

func (p *pass) isTemporalLit(kv *dst.KeyValueExpr) bool {
	lit, ok := p.parent(kv).(*dst.CompositeLit)
	return ok && temporalRecv(p, lit)
}

// unsupportedIdent classifies a qualified identifier.
func unsupportedIdent(id *dst.Ident) (anchor, what string) {
	switch {
	case id.Path == "":
		return "", ""
	case id.Path == pkgWorkflow:
		switch id.Name {
		case "NewNexusClient", "NexusClient", "NexusOperationOptions", "NexusOperationFuture":
			return "nexus", "workflow." + id.Name + " (Nexus)"
		case "WithDataConverter":
			return "data-converters", "workflow.WithDataConverter (custom data converter)"
		}
	case strings.HasPrefix(id.Path, "go.temporal.io/sdk/interceptor"):
		if id.Path == pkgInterceptor && !unsupportedInterceptor(id.Name) {
			return "", "" // interceptor.go converts it
		}
		return "interceptors", "interceptor." + id.Name + " (interceptors)"
	case strings.HasPrefix(id.Path, "go.temporal.io/sdk/temporalnexus"), strings.HasPrefix(id.Path, "github.com/nexus-rpc/"):
		return "nexus", lastElem(id.Path) + "." + id.Name + " (Nexus)"
	case id.Path == "go.temporal.io/sdk/converter":
		// The default data converter is JSON, as durable's payloads: the
		// rules that convert its uses (payload reads, the test
		// environment's SetDataConverter) run later, and unrecognised
		// marks what they leave.
		if id.Name != "EncodedValue" && id.Name != "EncodedValues" && id.Name != "GetDefaultDataConverter" {
			return "data-converters", "converter." + id.Name + " (custom data converter)"
		}
	}
	return "", ""
}

// unrecognisedRule marks every Temporal reference no rule converted, so
// nothing is silently left behind: the code is kept and listed.
var unrecognisedRule = rule{
	Name: "unrecognised",
	Doc:  "mark every Temporal API left unconverted",
	Run: func(p *pass) {
		seen := map[string]bool{}
		dst.Inspect(p.file, func(n dst.Node) bool {
			if fd, ok := n.(*dst.FuncDecl); ok && p.keptTemporal(fd) {
				return false // Temporal code on purpose (propagators.go)
			}
			id, ok := n.(*dst.Ident)
			if !ok || !strings.HasPrefix(id.Path, temporalPrefix) || p.marked(id) {
				return true
			}
			if id.Path == pkgWorkflow && keptTemporalTypes[id.Name] {
				return true
			}
			name := lastElem(id.Path) + "." + id.Name
			key := name + "@" + p.pos(id).String()
			if seen[key] {
				return true
			}
			seen[key] = true
			if id.Path == pkgClient && connectionOptions[id.Name] {
				// Settings of the Temporal connection durable.Open no longer
				// reads: a note, not a follow-up.
				p.findings = append(p.findings, newFinding(p.pos(id), p.rule, SeverityNote,
					name+" configures the Temporal connection, which the converted code no longer opens: delete it when Temporal is gone", ""))
				return true
			}
			if p.isAPIData(id) {
				return true
			}
			p.todo(id, "unrecognised", "%s has no automatic conversion", name)
			return true
		})
	},
}

// isAPIData reports whether id names a type or constant of Temporal's API
// packages (go.temporal.io/api/.../v1: protobuf messages and enums), which
// are plain data: code may keep them for its own use, and durable bridges
// fill them where the converted calls return them (compat.Memo,
// compat.DescribeWorkflowExecution). A call that needs Temporal's service
// is marked where it is made.
func (p *pass) isAPIData(id *dst.Ident) bool {
	if id.Path == "go.temporal.io/sdk/converter" && id.Name == "GetDefaultDataConverter" {
		// Temporal's JSON data converter runs in the process; code that
		// reads Temporal payloads (compat.Memo's) with it keeps working.
		return true
	}
	if id.Path == pkgClient && strings.HasPrefix(id.Name, "Schedule") ||
		id.Path == "go.temporal.io/sdk/temporal" && (id.Name == "ErrScheduleAlreadyRunning" || id.Name == "ErrSkipScheduleUpdate") {
		// Temporal's schedule types (ScheduleOptions, ScheduleSpec,
		// ScheduleHandle, ...) and errors: compat.ScheduleClient serves
		// them from durable schedules (the starter rule).
		return true
	}
	if !strings.HasPrefix(id.Path, "go.temporal.io/api/") || id.Path == pkgServiceError {
		return false
	}
	switch p.objOf(id).(type) {
	case *types.TypeName, *types.Const:
		return true
	}
	return false
}

// connectionOptions are the client package's settings of the connection to
// Temporal's service, which a converted program (durable.Open) does not
// read any more.
var connectionOptions = map[string]bool{
	"Options": true, "ConnectionOptions": true, "DefaultHostPort": true, "DefaultNamespace": true,
	"NewAPIKeyStaticCredentials": true, "NewAPIKeyDynamicCredentials": true, "NewMTLSCredentials": true,
	"Credentials": true,
}
