package pushservice

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Delivery is one push request as the service saw and answered it.
type Delivery struct {
	At              time.Time `json:"at"` // when the request arrived
	EndpointID      string    `json:"endpoint_id"`
	TTL             int       `json:"ttl"`
	Urgency         string    `json:"urgency,omitempty"`
	Topic           string    `json:"topic,omitempty"`
	ContentEncoding string    `json:"content_encoding,omitempty"`
	Claims          Claims    `json:"claims"`
	BodySize        int64     `json:"body_size"`
	RecordSize      uint32    `json:"record_size,omitempty"` // rs of the aes128gcm header
	Records         int       `json:"records,omitempty"`
	Plaintext       []byte    `json:"plaintext,omitempty"` // the decrypted payload
	Status          int       `json:"status"`              // answered; 0 when the client gave up first
	RetryAfter      string    `json:"retry_after,omitempty"`
	Reason          string    `json:"reason,omitempty"` // why the service refused it; empty when it passed every check
}

// Counts summarises everything the service answered.
type Counts struct {
	Requests  int         `json:"requests"`
	Delivered int         `json:"delivered"` // answered 201
	Refused   int         `json:"refused"`   // failed a check (VAPID, TTL, size, encryption)
	ByStatus  map[int]int `json:"by_status"` // 0: the client gave up before the answer
}

// recorder keeps deliveries per endpoint; safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	byID    map[string][]Delivery
	all     []Delivery
	changed chan struct{} // closed and replaced at every add
}

func newRecorder() *recorder {
	return &recorder{byID: map[string][]Delivery{}, changed: make(chan struct{})}
}

func (r *recorder) add(d Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[d.EndpointID] = append(r.byID[d.EndpointID], d)
	r.all = append(r.all, d)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Received returns the requests made to one endpoint, oldest first,
// including refused ones. A request is recorded when it has been answered
// (or the client gave up), so a hanging request appears only then.
func (s *Server) Received(endpointID string) []Delivery {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return append([]Delivery(nil), s.rec.byID[endpointID]...)
}

// All returns every recorded request, oldest first.
func (s *Server) All() []Delivery {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return append([]Delivery(nil), s.rec.all...)
}

// Counts returns totals over every endpoint.
func (s *Server) Counts() Counts {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	c := Counts{ByStatus: map[int]int{}}
	for _, d := range s.rec.all {
		c.Requests++
		c.ByStatus[d.Status]++
		switch {
		case d.Reason != "":
			c.Refused++
		case d.Status == 201:
			c.Delivered++
		}
	}
	return c
}

// WaitReceived waits until endpointID has at least n recorded requests and
// returns them, or returns ctx's error with what has arrived so far.
func (s *Server) WaitReceived(ctx context.Context, endpointID string, n int) ([]Delivery, error) {
	for {
		s.rec.mu.Lock()
		got := append([]Delivery(nil), s.rec.byID[endpointID]...)
		changed := s.rec.changed
		s.rec.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("wait for %d requests to %s, have %d: %w", n, endpointID, len(got), ctx.Err())
		case <-changed:
		}
	}
}
