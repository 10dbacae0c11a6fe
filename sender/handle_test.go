package sender

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
)

type fakeLedger struct {
	mu   sync.Mutex
	rows map[string]Record
}

func (l *fakeLedger) Done(_ context.Context, id string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.rows[id]
	return ok, nil
}

func (l *fakeLedger) Record(_ context.Context, r Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.rows[r.RequestID]; !ok {
		l.rows[r.RequestID] = r
	}
	return nil
}

type fakeEvents struct {
	mu     sync.Mutex
	events []schemas.Event
}

func (f *fakeEvents) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range msgs {
		var ev schemas.Event
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			return err
		}
		f.events = append(f.events, ev)
	}
	return nil
}

func (f *fakeEvents) Close() error { return nil }

type fakeKeys struct{}

func (fakeKeys) SiteByID(_ context.Context, id string) (controlplane.Site, error) {
	if id != testSite {
		return controlplane.Site{}, controlplane.ErrNotFound
	}
	return controlplane.Site{ID: id, VAPIDPublicKey: "pub", VAPIDContact: "mailto:ops@shop.example"}, nil
}

func (fakeKeys) VAPIDPrivateKey(context.Context, string) (string, error) { return "priv", nil }

const testSite = "0193a5a0-7b7c-7cc0-8000-000000000001"

func newFakeService(t *testing.T, answers ...attempt) (*Service, *fakeLedger, *fakeEvents, *int) {
	t.Helper()
	l, ev := &fakeLedger{rows: map[string]Record{}}, &fakeEvents{}
	cfg := Config{Group: "g", Concurrency: 1, Timeout: time.Second, RetryBase: time.Millisecond, RetryMax: time.Millisecond, DrainTimeout: time.Second}
	s, err := New(cfg, Deps{Brokers: []string{"unused:9092"}, Store: fakeKeys{}, ledger: l, events: ev}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	calls := 0
	s.push = func(context.Context, *schemas.PushRequest, vapidKeys, int) attempt {
		a := answers[min(calls, len(answers)-1)]
		calls++
		return a
	}
	return s, l, ev, &calls
}

func message(t *testing.T, req schemas.PushRequest) kafka.Message {
	t.Helper()
	b, err := json.Marshal(&req)
	require.NoError(t, err)
	return kafka.Message{Value: b}
}

func fakeRequest() schemas.PushRequest {
	r := schemas.PushRequest{
		RequestID: "req-1", SiteID: testSite, SubscriberID: "sub-1",
		Subscription: schemas.PushSubscription{
			Endpoint: "https://fcm.example/push/1",
			P256dh:   "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			Auth:     "AAAAAAAAAAAAAAAAAAAAAA",
		},
		Payload: json.RawMessage(`{"title":"t"}`), TTLSeconds: 60, CampaignID: "c1", StepID: "s1",
		CreatedAt: time.Now(),
	}
	return r
}

func TestHandleRecordsAndReports(t *testing.T) {
	s, l, ev, calls := newFakeService(t, attempt{Status: 503, RetryAfter: time.Millisecond}, attempt{Status: 201, Latency: 3 * time.Millisecond})
	ctx := context.Background()
	require.True(t, s.handle(ctx, ctx, message(t, fakeRequest())))
	require.Equal(t, 2, *calls)
	require.Equal(t, Record{RequestID: "req-1", SiteID: testSite, Outcome: "push_sent", Status: 201, Attempts: 2}, l.rows["req-1"])
	require.Len(t, ev.events, 1)
	e := ev.events[0]
	require.Equal(t, schemas.EventPushSent, e.Type)
	require.Equal(t, "req-1", e.PushID)
	require.Equal(t, "c1", e.CampaignID)
	require.Equal(t, map[string]string{"status": "201", "latency_ms": "3", "attempts": "2", "host": "fcm.example", "step_id": "s1"}, e.Props)

	// The same request again (a restart, a rebalance): not sent, not reported.
	require.True(t, s.handle(ctx, ctx, message(t, fakeRequest())))
	require.Equal(t, 2, *calls)
	require.Len(t, ev.events, 1)
	require.Equal(t, int64(1), s.Stats().Skipped)
}

func TestHandleRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		modify func(*schemas.PushRequest)
		reason string
	}{
		{"payload too large", func(r *schemas.PushRequest) {
			r.Payload = json.RawMessage(`"` + string(bytesOf('a', 4000)) + `"`)
		}, ReasonTooLarge},
		{"unknown site", func(r *schemas.PushRequest) { r.SiteID = "0193a5a0-7b7c-7cc0-8000-0000000000ff" }, ReasonUnknownSite},
		{"invalid request", func(r *schemas.PushRequest) { r.Urgency = "asap" }, ReasonInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, ev, calls := newFakeService(t, attempt{Status: 201})
			r := fakeRequest()
			tt.modify(&r)
			require.True(t, s.handle(ctx, ctx, message(t, r)))
			require.Zero(t, *calls, "the push service is not called")
			require.Len(t, ev.events, 1)
			require.Equal(t, schemas.EventPushFailed, ev.events[0].Type)
			require.Equal(t, tt.reason, ev.events[0].Reason)
		})
	}
}

func TestHandleStoppedIsNotCommitted(t *testing.T) {
	s, l, ev, _ := newFakeService(t, attempt{Status: 500})
	s.cfg.RetryBase, s.cfg.RetryMax = 10*time.Minute, 10*time.Minute
	req := fakeRequest()
	req.TTLSeconds = 86400 // room for the backoff: the stop, not the deadline, ends it
	stop, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	require.False(t, s.handle(context.Background(), stop, message(t, req)))
	require.Empty(t, l.rows, "nothing recorded: the next owner delivers it")
	require.Empty(t, ev.events)
}

// The attribution report reads step and variant of a push from its result
// event: both outcomes carry them when the request has them, and only then.
func TestResultEventCarriesStepAndVariant(t *testing.T) {
	tests := []struct {
		name          string
		step, variant string
		typ           schemas.EventType
		want          map[string]string
	}{
		{"sent with both", "2", "b", schemas.EventPushSent, map[string]string{"step_id": "2", "variant": "b"}},
		{"failed with both", "0", "a", schemas.EventPushFailed, map[string]string{"step_id": "0", "variant": "a"}},
		{"variant only", "", "control", schemas.EventPushSent, map[string]string{"variant": "control"}},
		{"neither", "", "", schemas.EventPushSent, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fakeRequest()
			req.StepID, req.Variant = tt.step, tt.variant
			e := resultEvent(&req, outcome{Type: tt.typ, Status: 201, Attempts: 1}, time.Now())
			require.Equal(t, tt.typ, e.Type)
			got := map[string]string{}
			for _, k := range []string{"step_id", "variant"} {
				if v, ok := e.Props[k]; ok {
					got[k] = v
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}
