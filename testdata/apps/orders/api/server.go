// Package api serves the order service over HTTP: it starts orders,
// forwards approvals and answers status queries through a Temporal client.
package api

import (
	"encoding/json"
	"net/http"

	"go.temporal.io/sdk/client"

	"example.com/apps/orders/activities"
	"example.com/apps/orders/workflows"
)

// Server holds the client the handlers use.
type Server struct {
	Client client.Client
}

// Routes returns the API's handler.
func (s *Server) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.place)
	mux.HandleFunc("POST /orders/{id}/approve", s.approve)
	mux.HandleFunc("GET /orders/{id}", s.status)
	return mux
}

func (s *Server) place(w http.ResponseWriter, r *http.Request) {
	var o activities.Order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	run, err := s.Client.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{
		ID: "order-" + o.ID, TaskQueue: workflows.TaskQueue,
	}, workflows.OrderWorkflow, o)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"workflowID": run.GetID()})
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	err := s.Client.SignalWorkflow(r.Context(), "order-"+r.PathValue("id"), "", "approve", map[string]any{"By": "api", "OK": true})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	v, err := s.Client.QueryWorkflow(r.Context(), "order-"+r.PathValue("id"), "", "status")
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(st)
}
