package simulate

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/pushpipe/pushpipe/schemas"
)

// fakeIngest is a minimal POST /v1/events: it checks the site key, decodes
// the beacon, validates each event on its own rules (not the generator's
// marks) and answers in ingest's shape.
type fakeIngest struct {
	t       *testing.T
	siteKey string
	// fault, when set, may answer an attempt itself: a status code, or -1 to
	// drop the connection; 0 lets the request through.
	fault func(key string, attempt int) int
	// onEvents, when set, runs for every request that reaches validation.
	onEvents func(received int)

	mu       sync.Mutex
	attempts map[string][]string // batch key (first event id) -> event list JSON per attempt
	sentAt   map[string][]int64
	received int // events over all attempts
	accepted []string
	rejected map[string]string // event key -> field
	headers  []http.Header
}

func newFakeIngest(t *testing.T, siteKey string) (*fakeIngest, *httptest.Server) {
	f := &fakeIngest{t: t, siteKey: siteKey, attempts: map[string][]string{}, sentAt: map[string][]int64{}, rejected: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

var currencyRe = regexp.MustCompile(`^[A-Za-z]{3}$`)

// validateEvent returns the offending field, or "" for a valid event.
func validateEvent(e schemas.BeaconEvent) string {
	switch {
	case !e.Type.IsBeacon():
		return "type"
	case e.SubscriberID == "":
		return "subscriber_id"
	case e.EventID != "" && !isUUIDv7(e.EventID):
		return "event_id"
	case e.Currency != "" && !currencyRe.MatchString(e.Currency):
		return "currency"
	case e.Revenue != nil && *e.Revenue < 0:
		return "revenue"
	case e.Type == schemas.EventSubscribed && (e.Subscription == nil || !strings.HasPrefix(e.Subscription.Endpoint, "https://")):
		return "subscription"
	case len(e.URL) > schemas.MaxURLLen:
		return "url"
	case !scalarProps(e.Props):
		return "props"
	case (e.Type == schemas.EventCustom || e.Type == schemas.EventConversion) && e.Name == "":
		return "name"
	}
	return ""
}

func isUUIDv7(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.Version() == 7 && len(s) == 36
}

func scalarProps(props map[string]json.RawMessage) bool {
	for _, raw := range props {
		switch t := bytes.TrimSpace(raw); {
		case len(t) == 0, t[0] == '{', t[0] == '[', string(t) == "null":
			return false
		}
	}
	return true
}

// eventKey identifies an event even when its id is broken.
func eventKey(e schemas.BeaconEvent) string { return e.EventID }

func (f *fakeIngest) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("site_key") != f.siteKey {
		http.Error(w, `{"errors":[{"field":"site_key","problem":"unknown site key"}]}`, http.StatusForbidden)
		return
	}
	var b schemas.Beacon
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || len(b.Events) == 0 {
		http.Error(w, `{"errors":[{"field":"","problem":"bad json"}]}`, http.StatusBadRequest)
		return
	}
	if code := f.record(r, b); code != 0 {
		if code < 0 {
			hijackClose(w)
			return
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(code)
		return
	}
	f.answer(w, b)
}

// record notes the attempt and asks fault whether to fail it.
func (f *fakeIngest) record(r *http.Request, b schemas.Beacon) int {
	events, _ := json.Marshal(b.Events)
	key := b.Events[0].EventID
	f.mu.Lock()
	f.attempts[key] = append(f.attempts[key], string(events))
	f.sentAt[key] = append(f.sentAt[key], b.SentAt)
	f.received += len(b.Events)
	f.headers = append(f.headers, r.Header.Clone())
	n, received := len(f.attempts[key]), f.received
	f.mu.Unlock()
	if f.onEvents != nil {
		f.onEvents(received)
	}
	if f.fault != nil {
		return f.fault(key, n)
	}
	return 0
}

func (f *fakeIngest) answer(w http.ResponseWriter, b schemas.Beacon) {
	resp := ingestResponse{EventIDs: []string{}}
	f.mu.Lock()
	for i, e := range b.Events {
		if field := validateEvent(e); field != "" {
			resp.Rejected++
			f.rejected[eventKey(e)] = field
			resp.Errors = append(resp.Errors, struct {
				Index   int    `json:"index"`
				Field   string `json:"field"`
				Problem string `json:"problem"`
			}{i, field, "invalid"})
			continue
		}
		resp.Accepted++
		resp.EventIDs = append(resp.EventIDs, e.EventID)
		f.accepted = append(f.accepted, e.EventID)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if resp.Rejected > 0 {
		w.WriteHeader(http.StatusBadRequest)
	} else {
		w.WriteHeader(http.StatusAccepted)
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// hijackClose drops the connection without an answer, like a crashed server.
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}
