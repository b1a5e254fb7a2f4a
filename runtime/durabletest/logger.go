package durabletest

import (
	"context"
	"log/slog"
	"slices"

	"github.com/durablego/toolkit/runtime/durable"
)

// KeyValueLogger is a logger with the shape of Temporal's log.Logger:
// a message and alternating keys and values. Tests that capture what
// workflows and activities log implement it (WorkflowTestSuite.SetLogger).
type KeyValueLogger interface {
	Debug(msg string, keyvals ...any)
	Info(msg string, keyvals ...any)
	Warn(msg string, keyvals ...any)
	Error(msg string, keyvals ...any)
}

// NewKeyValueHandler returns a slog.Handler that writes each record to l:
// at l's method for the record's level (Debug below Info, Info below Warn,
// Warn below Error, Error from there), with the attributes a Logger.With
// added first and the record's own after, as keys and values. A group's
// attributes get the group's name and a dot before their key.
func NewKeyValueHandler(l KeyValueLogger) slog.Handler { return &keyValueHandler{l: l} }

type keyValueHandler struct {
	l      KeyValueLogger
	prefix string
	kv     []any
}

func (h *keyValueHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *keyValueHandler) Handle(_ context.Context, r slog.Record) error {
	kv := slices.Clone(h.kv)
	r.Attrs(func(a slog.Attr) bool {
		kv = appendAttr(kv, h.prefix, a)
		return true
	})
	switch {
	case r.Level < slog.LevelInfo:
		h.l.Debug(r.Message, kv...)
	case r.Level < slog.LevelWarn:
		h.l.Info(r.Message, kv...)
	case r.Level < slog.LevelError:
		h.l.Warn(r.Message, kv...)
	default:
		h.l.Error(r.Message, kv...)
	}
	return nil
}

func (h *keyValueHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &keyValueHandler{l: h.l, prefix: h.prefix, kv: slices.Clone(h.kv)}
	for _, a := range as {
		n.kv = appendAttr(n.kv, h.prefix, a)
	}
	return n
}

func (h *keyValueHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &keyValueHandler{l: h.l, prefix: h.prefix + name + ".", kv: h.kv}
}

// appendAttr appends a's keys and values, a group's flattened.
func appendAttr(kv []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			kv = appendAttr(kv, p, g)
		}
		return kv
	}
	if a.Key == "" {
		return kv
	}
	return append(kv, prefix+a.Key, v.Any())
}

// SetLogger makes the environments the suite makes from now on log to l
// (Temporal's WorkflowTestSuite.SetLogger): what workflows, activities
// and their interceptors log goes to l through NewKeyValueHandler.
func (s *WorkflowTestSuite) SetLogger(l KeyValueLogger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger = l
}

// loggerOption is the engine option of the suite's logger, nil without one.
func (s *WorkflowTestSuite) loggerOption() Option {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logger == nil {
		return nil
	}
	return WithEngineOptions(durable.WithLogger(slog.New(NewKeyValueHandler(s.logger))))
}
