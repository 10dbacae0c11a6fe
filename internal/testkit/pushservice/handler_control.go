package pushservice

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The control API lets another process (a sender under test, a script)
// create subscriptions and read what arrived, when the service runs as
// `pushpipe dev pushservice`:
//
//	POST /subscriptions                     {"script":[{"status":429,"retry_after":"30"}],"then":{"status":410},
//	                                         "application_server_key":"B..."} -> the PushSubscription JSON, with "id"
//	PUT  /subscriptions/{id}/behaviour      {"script":[...],"then":{...}} -> 204
//	GET  /subscriptions/{id}/deliveries     -> the recorded requests (plaintext base64)
//	GET  /counts                            -> totals
func (s *Server) routeControl(mux *http.ServeMux) {
	mux.HandleFunc("POST /subscriptions", s.handleCreate)
	mux.HandleFunc("PUT /subscriptions/{id}/behaviour", s.handleBehaviour)
	mux.HandleFunc("GET /subscriptions/{id}/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Received(r.PathValue("id")))
	})
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Counts())
	})
}

// answerJSON is an Answer on the wire; delay is a Go duration ("1.5s").
type answerJSON struct {
	Status     int    `json:"status"`
	RetryAfter string `json:"retry_after"`
	Delay      string `json:"delay"`
	Hang       bool   `json:"hang"`
}

type behaviourJSON struct {
	Script               []answerJSON `json:"script"`
	Then                 answerJSON   `json:"then"`
	ApplicationServerKey string       `json:"application_server_key"`
}

func (a answerJSON) answer() (Answer, error) {
	out := Answer{Status: a.Status, RetryAfter: a.RetryAfter, Hang: a.Hang}
	if a.Status != 0 && (a.Status < 200 || a.Status > 599) {
		return out, fmt.Errorf("status %d is not an HTTP status", a.Status)
	}
	if a.Delay != "" {
		d, err := time.ParseDuration(a.Delay)
		if err != nil {
			return out, fmt.Errorf("parse delay: %w", err)
		}
		out.Delay = d
	}
	return out, nil
}

func (b behaviourJSON) behaviour() (Behaviour, error) {
	var out Behaviour
	for i, a := range b.Script {
		ans, err := a.answer()
		if err != nil {
			return out, fmt.Errorf("script[%d]: %w", i, err)
		}
		out.Script = append(out.Script, ans)
	}
	then, err := b.Then.answer()
	if err != nil {
		return out, fmt.Errorf("then: %w", err)
	}
	out.Then = then
	return out, nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	req, b, ok := readBehaviour(w, r)
	if !ok {
		return
	}
	if req.ApplicationServerKey == "" {
		writeJSON(w, http.StatusCreated, s.NewSubscription(b))
		return
	}
	sub, err := s.NewBoundSubscription(b, req.ApplicationServerKey)
	if err != nil {
		http.Error(w, "application_server_key: "+err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusCreated, sub)
}

func (s *Server) handleBehaviour(w http.ResponseWriter, r *http.Request) {
	_, b, ok := readBehaviour(w, r)
	if !ok {
		return
	}
	if !s.SetBehaviour(r.PathValue("id"), b) {
		http.Error(w, "no such subscription", http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readBehaviour decodes a behaviour request; an empty body means 201 always.
func readBehaviour(w http.ResponseWriter, r *http.Request) (behaviourJSON, Behaviour, bool) {
	var req behaviourJSON
	if r.ContentLength != 0 {
		d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		d.DisallowUnknownFields()
		if err := d.Decode(&req); err != nil {
			http.Error(w, "decode behaviour: "+err.Error(), http.StatusBadRequest)
			return req, Behaviour{}, false
		}
	}
	b, err := req.behaviour()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return req, b, false
	}
	return req, b, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
