package pushservice

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// handlePush is POST /push/{id}: check the request as a push service does,
// decrypt it as the browser would, record it, and answer as scripted.
func (s *Server) handlePush(w http.ResponseWriter, r *http.Request) {
	d := Delivery{
		At:              time.Now(),
		EndpointID:      r.PathValue("id"),
		Urgency:         r.Header.Get("Urgency"),
		Topic:           r.Header.Get("Topic"),
		ContentEncoding: r.Header.Get("Content-Encoding"),
		BodySize:        r.ContentLength,
	}
	e := s.endpoint(d.EndpointID)
	if e == nil {
		s.refuse(w, &d, refuse(http.StatusNotFound, "no such subscription"))
		return
	}
	body, ref := s.readBody(w, r, &d)
	if ref == nil {
		d.Claims, ref = verifyVAPID(r.Header.Get("Authorization"), origin(r), d.At, e.boundKey)
	}
	if ref == nil {
		ref = checkHeaders(r.Header, &d)
	}
	if ref == nil {
		ref = decryptInto(e, body, &d)
	}
	if ref != nil {
		s.refuse(w, &d, ref)
		return
	}
	s.answer(w, r, &d, e.answer())
}

// readBody reads at most MaxBody bytes; a larger body is refused with 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, d *Delivery) ([]byte, *refusal) {
	limit := int64(s.opts.MaxBody)
	if r.ContentLength > limit {
		return nil, refuse(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds %d", r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return nil, refuse(http.StatusRequestEntityTooLarge, "body exceeds %d bytes", limit)
	}
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "read body: %v", err)
	}
	d.BodySize = int64(len(body))
	return body, nil
}

var urgencies = map[string]bool{"very-low": true, "low": true, "normal": true, "high": true}

// checkHeaders applies RFC 8030 §5: TTL is required, Urgency and Topic
// must be well formed when present.
func checkHeaders(h http.Header, d *Delivery) *refusal {
	ttl := h.Get("TTL")
	if ttl == "" {
		return refuse(http.StatusBadRequest, "missing TTL header (RFC 8030 §5.2)")
	}
	n, err := strconv.Atoi(ttl)
	if err != nil || n < 0 {
		return refuse(http.StatusBadRequest, "TTL %q is not a non-negative integer", ttl)
	}
	d.TTL = n
	if d.Urgency != "" && !urgencies[d.Urgency] {
		return refuse(http.StatusBadRequest, "Urgency %q is not very-low, low, normal or high", d.Urgency)
	}
	if d.Topic != "" && !schemas.ValidPushTopic(d.Topic) {
		return refuse(http.StatusBadRequest, "Topic %q is not at most 32 base64url characters (RFC 8030 §5.4)", d.Topic)
	}
	return nil
}

// decryptInto opens a non-empty body with the subscription's keys. An
// empty body is a push without payload, which RFC 8030 allows.
func decryptInto(e *endpoint, body []byte, d *Delivery) *refusal {
	if len(body) == 0 {
		return nil
	}
	if !strings.EqualFold(d.ContentEncoding, "aes128gcm") {
		return refuse(http.StatusBadRequest, "Content-Encoding %q is not aes128gcm (RFC 8291)", d.ContentEncoding)
	}
	msg, err := Decrypt(body, e.ua, e.auth)
	d.RecordSize, d.Records = msg.RecordSize, msg.Records
	if err != nil {
		return refuse(http.StatusBadRequest, "payload does not decrypt with the subscription's keys: %v", err)
	}
	d.Plaintext = msg.Plaintext
	return nil
}

// refuse answers a request that failed a check and records why.
func (s *Server) refuse(w http.ResponseWriter, d *Delivery, ref *refusal) {
	d.Status, d.Reason = ref.status, ref.reason
	s.rec.add(*d)
	s.log.Info("push refused", "endpoint", d.EndpointID, "status", d.Status, "reason", d.Reason)
	http.Error(w, ref.reason, ref.status)
}

// answer waits as scripted, then writes the scripted status. When the
// client gives up first the request is recorded with status 0; Close
// answers waiting requests 503.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, d *Delivery, a Answer) {
	wait := closedTime // answer at once
	held := a.Hang || a.Delay > 0
	switch {
	case a.Hang:
		wait = nil // only the client or Close ends it
	case a.Delay > 0:
		t := time.NewTimer(a.Delay)
		defer t.Stop()
		wait = t.C
	}
	status := a.status()
	if held {
		s.pending.Add(1)
	}
	select {
	case <-wait:
	case <-r.Context().Done():
		status = 0
	case <-s.closing:
		status = http.StatusServiceUnavailable
	}
	if held {
		s.pending.Add(-1)
	}
	d.Status, d.RetryAfter = status, a.RetryAfter
	s.rec.add(*d)
	s.log.Debug("push answered", "endpoint", d.EndpointID, "status", status, "bytes", d.BodySize)
	if status == 0 {
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", origin(r)+"/message/"+rand.Text())
		w.WriteHeader(status)
		return
	}
	http.Error(w, fmt.Sprintf("scripted answer %d", status), status)
}

// closedTime is a channel that is always ready: answer at once.
var closedTime = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()
