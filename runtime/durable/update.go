package durable

import (
	"encoding/json"
	"errors"

	"github.com/durablego/toolkit/runtime/internal/journal"
)

// updateHandler is a registered update handler (see SetUpdateHandler).
type updateHandler struct{}

type updateRequest struct {
	reply chan updateReply
}

type updateReply struct {
	value json.RawMessage
	err   error
}

func (in *instance) onUpdateRequest(r *updateRequest) {
	r.reply <- updateReply{err: errors.New("durable: updates are not supported yet")}
}

func (in *instance) onUpdateAccepted(d *journal.UpdateData) {}
