package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/schemas"
)

// Test sites: testKey allows two origins and anonymises IPs; openKey allows
// any origin and keeps full IPs.
const (
	testKey    = "pps_testkey"
	testSiteID = "0190f3a4-0000-7000-8000-000000000001"
	openKey    = "pps_openkey"
	openSiteID = "0190f3a4-0000-7000-8000-000000000002"
)

type fakeSites struct {
	mu    sync.Mutex
	sites map[string]controlplane.Site
	err   error
}

func newFakeSites() *fakeSites {
	return &fakeSites{sites: map[string]controlplane.Site{
		testKey: {
			ID: testSiteID, SiteKey: testKey, AnonymizeIP: true,
			AllowedOrigins: []string{"https://shop.example", "https://www.shop.example/"},
		},
		openKey: {ID: openSiteID, SiteKey: openKey, AnonymizeIP: false, AllowedOrigins: []string{"*"}},
	}}
}

func (f *fakeSites) SiteByKey(_ context.Context, key string) (controlplane.Site, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return controlplane.Site{}, f.err
	}
	if s, ok := f.sites[key]; ok {
		return s, nil
	}
	return controlplane.Site{}, fmt.Errorf("site by key: %w", controlplane.ErrNotFound)
}

// fakeProducer records every WriteMessages call; err fails them, fail
// (when set) decides per call (a kafka.WriteErrors fails only the messages
// it names), panics panics, entered (when set) is told of each call, and
// hold (when set) blocks each call until it is closed. attempts counts calls.
type fakeProducer struct {
	mu       sync.Mutex
	calls    [][]kafka.Message
	err      error
	fail     func(msgs []kafka.Message) error
	panics   bool
	entered  chan struct{}
	hold     chan struct{}
	closed   bool
	attempts int
}

func (p *fakeProducer) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	if p.entered != nil {
		p.entered <- struct{}{}
	}
	if p.hold != nil {
		<-p.hold
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts++
	if p.panics {
		panic("producer exploded")
	}
	if p.err != nil {
		return p.err
	}
	if p.fail != nil {
		if err := p.fail(msgs); err != nil {
			var werrs kafka.WriteErrors
			if errors.As(err, &werrs) {
				var ok []kafka.Message
				for i, e := range werrs {
					if e == nil {
						ok = append(ok, msgs[i])
					}
				}
				p.calls = append(p.calls, ok)
			}
			return err
		}
	}
	p.calls = append(p.calls, append([]kafka.Message(nil), msgs...))
	return nil
}

// setErr fails every call from now on with err (nil: none), safely while
// the spool's replayer calls.
func (p *fakeProducer) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *fakeProducer) attempted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

func (p *fakeProducer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

func (p *fakeProducer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// take returns the calls so far and forgets them.
func (p *fakeProducer) take() [][]kafka.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := p.calls
	p.calls = nil
	return calls
}

func (p *fakeProducer) Calls() [][]kafka.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]kafka.Message(nil), p.calls...)
}

// events decodes every message produced, in order.
func (p *fakeProducer) events(t testing.TB) []schemas.Event {
	t.Helper()
	var out []schemas.Event
	for _, call := range p.Calls() {
		for _, m := range call {
			var e schemas.Event
			require.NoError(t, json.Unmarshal(m.Value, &e))
			require.Equal(t, e.Key(), string(m.Key), "message key")
			require.Empty(t, m.Topic, "the writer names the topic")
			out = append(out, e)
		}
	}
	return out
}

type fixture struct {
	svc      *Service
	sites    *fakeSites
	producer *fakeProducer
	now      time.Time
	logs     *testkit.LogBuffer
}

// testNow is the server clock of the fixtures.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, edit ...func(*Config, *Deps)) *fixture {
	t.Helper()
	f := &fixture{sites: newFakeSites(), producer: &fakeProducer{}, now: testNow, logs: &testkit.LogBuffer{}}
	cfg := Defaults()
	cfg.SpoolDir = t.TempDir()
	deps := Deps{Sites: f.sites, Producer: f.producer, Now: func() time.Time { return f.now }}
	for _, e := range edit {
		e(&cfg, &deps)
	}
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	svc, err := New(cfg, deps, log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	f.svc = svc
	return f
}

// request is one call of the handler.
type request struct {
	method  string // default POST
	path    string // default /v1/events?site_key=testKey
	body    string
	headers map[string]string // Content-Type defaults to application/json for POST
	remote  string            // default 203.0.113.77:40000
}

func (f *fixture) do(t testing.TB, r request) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = PathEvents + "?site_key=" + testKey
	}
	req := httptest.NewRequestWithContext(context.Background(), r.method, r.path, strings.NewReader(r.body))
	req.RemoteAddr = "203.0.113.77:40000"
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	if r.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.svc.Handler().ServeHTTP(rec, req)
	return rec
}

func decodeResponse(t testing.TB, rec *httptest.ResponseRecorder) Response {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"), rec.Body.String())
	var r Response
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r))
	require.NotNil(t, r.EventIDs, "event_ids is always an array")
	require.NotNil(t, r.Errors, "errors is always an array")
	return r
}

// beaconJSON builds a beacon body from events written as JSON objects.
func beaconJSON(sentAt int64, events ...string) string {
	b := `{"events":[` + strings.Join(events, ",") + `]`
	if sentAt != 0 {
		b += fmt.Sprintf(`,"sent_at":%d`, sentAt)
	}
	return b + "}"
}

func pageView(sub string) string {
	return `{"type":"page_view","subscriber_id":"` + sub + `","url":"https://shop.example/","title":"Shop"}`
}

var errKafkaDown = errors.New("kafka: leader not available")
