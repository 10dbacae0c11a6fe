package sender

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/pushservice"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/schemas"
)

// stack is one test's sender environment: real Kafka and Postgres, a site
// with its VAPID keys, private topics, and the test push service.
type stack struct {
	brokers        []string
	deps           Deps
	site           string
	sitePublicKey  string // the site's VAPID public key: subscriptions are bound to it
	requests       string
	events         string
	push           *pushservice.Server
	writer         *kafka.Writer
	cfg            Config
	eventsReceived *kafka.Reader
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	brokers := []string{testkit.Kafka(t)}
	db, _ := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	site, err := store.CreateSite(ctx, controlplane.NewSite{Name: "sender test", Contact: "mailto:ops@shop.example"})
	require.NoError(t, err)

	suffix := rand.Text()[:10]
	s := &stack{brokers: brokers, site: site.ID, sitePublicKey: site.VAPIDPublicKey, requests: "test-push-requests-" + suffix, events: "test-events-" + suffix}
	_, err = kafkax.EnsureTopics(ctx, brokers, 3, 1, s.requests, s.events)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), brokers, s.requests, s.events) })

	s.push = pushservice.New(pushservice.Options{})
	require.NoError(t, s.push.Start())
	t.Cleanup(func() { _ = s.push.Close() })

	s.deps = Deps{Brokers: brokers, Postgres: db, Store: store, Topic: s.events, RequestsTopic: s.requests}
	s.cfg = Config{
		Group: "test-sender-" + suffix, Concurrency: 8, Timeout: 500 * time.Millisecond,
		RetryBase: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond, DrainTimeout: 5 * time.Second,
	}
	s.writer = kafkax.NewWriter(kafkax.WriterConfig{Brokers: brokers, Topic: s.requests}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = s.writer.Close() })
	s.eventsReceived = kafkax.NewReader(kafkax.ReaderConfig{Brokers: brokers, Topic: s.events, GroupID: "test-events-" + suffix}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = s.eventsReceived.Close() })
	return s
}

// request builds a valid request to sub whose payload names its id.
func (s *stack) request(sub pushservice.Subscription, ttl int) schemas.PushRequest {
	id := rand.Text()
	return schemas.PushRequest{
		RequestID: id, SiteID: s.site, SubscriberID: "subscriber-" + sub.ID,
		Subscription: schemas.PushSubscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth},
		Payload:      json.RawMessage(fmt.Sprintf(`{"title":"Sale","body":"50%% off","push_id":%q}`, id)),
		TTLSeconds:   ttl, Urgency: schemas.UrgencyHigh, Topic: "sale", CampaignID: "campaign-1",
		CreatedAt: time.Now().UTC(),
	}
}

func (s *stack) produce(t *testing.T, reqs ...schemas.PushRequest) {
	t.Helper()
	msgs := make([]kafka.Message, len(reqs))
	for i := range reqs {
		b, err := json.Marshal(&reqs[i])
		require.NoError(t, err)
		msgs[i] = kafka.Message{Key: []byte(reqs[i].Key()), Value: b}
	}
	require.NoError(t, s.writer.WriteMessages(context.Background(), msgs...))
}

// start runs a sender until the returned stop is called; stop waits for Run.
func (s *stack) start(t *testing.T) (svc *Service, stop func()) {
	t.Helper()
	svc, err := New(s.cfg, s.deps, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		require.NoError(t, <-done)
	}
	t.Cleanup(stop)
	return svc, stop
}

// resultEvents reads n result events, by push id.
func (s *stack) resultEvents(t *testing.T, n int) map[string]schemas.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[string]schemas.Event{}
	for len(got) < n {
		m, err := s.eventsReceived.FetchMessage(ctx)
		require.NoError(t, err, "have %d of %d events", len(got), n)
		var ev schemas.Event
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		require.Equal(t, ev.Key(), string(m.Key))
		_, dup := got[ev.PushID]
		require.False(t, dup, "one result event per request, got another for %s", ev.PushID)
		got[ev.PushID] = ev
	}
	return got
}

// delivered counts the requests the push service accepted (201) and decrypted.
func delivered(ds []pushservice.Delivery) []pushservice.Delivery {
	var out []pushservice.Delivery
	for _, d := range ds {
		if d.Status == 201 && d.Reason == "" {
			out = append(out, d)
		}
	}
	return out
}

// Every answer of the push service, through real Kafka and Postgres, with
// the pushpipe send path and with stock webpush-go.
func TestSenderEveryAnswer(t *testing.T) {
	for _, stock := range []bool{false, true} {
		t.Run(fmt.Sprintf("stock=%v", stock), func(t *testing.T) { testEveryAnswer(t, stock) })
	}
}

func testEveryAnswer(t *testing.T, stock bool) {
	s := newStack(t)
	s.cfg.Stock = stock
	A := func(status int, retryAfter string) pushservice.Answer {
		return pushservice.Answer{Status: status, RetryAfter: retryAfter}
	}
	cases := []struct {
		name      string
		behaviour pushservice.Behaviour
		modify    func(*schemas.PushRequest)
		typ       schemas.EventType
		reason    string
		status    string
		attempts  string
		requests  int // seen by the push service
		delivered int
	}{
		{"201", pushservice.Always(A(201, "")), nil, schemas.EventPushSent, "", "201", "1", 1, 1},
		{"404", pushservice.Always(A(404, "")), nil, schemas.EventSubscriptionExpired, ReasonNotFound, "404", "1", 1, 0},
		{"410", pushservice.Always(A(410, "")), nil, schemas.EventSubscriptionExpired, ReasonGone, "410", "1", 1, 0},
		{"413", pushservice.Always(A(413, "")), nil, schemas.EventPushFailed, ReasonTooLarge, "413", "1", 1, 0},
		{"403", pushservice.Always(A(403, "")), nil, schemas.EventPushFailed, ReasonConfig, "403", "1", 1, 0},
		{"429 retry-after then 201", pushservice.Sequence(A(429, "1")), nil, schemas.EventPushSent, "", "201", "2", 2, 1},
		{"500 then 201", pushservice.Sequence(A(500, ""), A(503, "")), nil, schemas.EventPushSent, "", "201", "3", 3, 1},
		{"hanging then 201", pushservice.Sequence(pushservice.Answer{Hang: true}), nil, schemas.EventPushSent, "", "201", "2", 2, 1},
		{
			"not_after passed", pushservice.Always(A(201, "")), func(r *schemas.PushRequest) { r.NotAfter = time.Now().Add(-time.Minute) },
			schemas.EventPushFailed, ReasonExpired, "0", "0", 0, 0,
		},
		{"payload too large for 4096", pushservice.Always(A(201, "")), func(r *schemas.PushRequest) {
			r.Payload = json.RawMessage(`{"title":"` + string(bytesOf('x', 4000)) + `"}`)
		}, schemas.EventPushFailed, ReasonTooLarge, "0", "0", 0, 0},
		{
			"500 until the ttl passes", pushservice.Always(A(500, "")), func(r *schemas.PushRequest) { r.TTLSeconds = 1 },
			schemas.EventPushFailed, ReasonExpired, "500", "", -1, 0,
		},
	}
	subs := make([]pushservice.Subscription, len(cases))
	reqs := make([]schemas.PushRequest, len(cases))
	for i, c := range cases {
		// Bound to the site's key, like subscribe({applicationServerKey}):
		// a push signed with any other key is refused 403.
		sub, err := s.push.NewBoundSubscription(c.behaviour, s.sitePublicKey)
		require.NoError(t, err)
		subs[i] = sub
		reqs[i] = s.request(subs[i], 60)
		if c.modify != nil {
			c.modify(&reqs[i])
		}
	}
	s.produce(t, reqs...)
	svc, _ := s.start(t)
	events := s.resultEvents(t, len(cases))

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, ok := events[reqs[i].RequestID]
			require.True(t, ok)
			require.Equal(t, c.typ, ev.Type)
			require.Equal(t, c.reason, ev.Reason)
			require.Equal(t, s.site, ev.SiteID)
			require.Equal(t, reqs[i].SubscriberID, ev.SubscriberID)
			require.Equal(t, "campaign-1", ev.CampaignID)
			require.Equal(t, c.status, ev.Props["status"])
			if c.attempts != "" {
				require.Equal(t, c.attempts, ev.Props["attempts"])
			}
			require.Equal(t, host(subs[i].Endpoint), ev.Props["host"])
			got := s.push.Received(subs[i].ID)
			if c.requests >= 0 {
				require.Len(t, got, c.requests)
			}
			if c.behaviour.Script != nil && c.behaviour.Script[0].RetryAfter == "1" {
				require.GreaterOrEqual(t, got[1].At.Sub(got[0].At), 950*time.Millisecond, "Retry-After: 1 honoured")
			}
			ok201 := delivered(got)
			require.Len(t, ok201, c.delivered, "delivered exactly once or never")
			for _, d := range ok201 {
				require.JSONEq(t, string(reqs[i].Payload), string(d.Plaintext), "decrypted at the push service")
				require.Equal(t, "high", d.Urgency)
				require.Equal(t, "sale", d.Topic)
				require.Equal(t, "mailto:ops@shop.example", d.Claims.Sub)
				require.Equal(t, s.push.URL(), d.Claims.Aud)
				require.InDelta(t, 60, d.TTL, 2, "the TTL left of the request")
				require.LessOrEqual(t, d.BodySize, int64(len(reqs[i].Payload)+overhead), "no padding by default")
			}
		})
	}
	require.Zero(t, svc.Stats().Skipped)
	require.Equal(t, int64(1), svc.Stats().ConfigErrors, "the 403")
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// A sender killed mid-stream and another started on the same group deliver
// every request, none twice. Hanging endpoints early in the stream hold back
// the commits of their partitions, so the second sender is handed requests
// the first one delivered: the ledger must keep them from going out again.
func TestSenderRestartDeliversNoRequestTwice(t *testing.T) {
	s := newStack(t)
	const n = 60
	subs := make([]pushservice.Subscription, n)
	reqs := make([]schemas.PushRequest, n)
	hanging := map[int]bool{0: true, 1: true, 2: true, 3: true}
	for i := range subs {
		b := pushservice.Always(pushservice.Answer{})
		if hanging[i] {
			b = pushservice.Always(pushservice.Answer{Hang: true})
		}
		subs[i] = s.push.NewSubscription(b)
		reqs[i] = s.request(subs[i], 600)
	}
	s.produce(t, reqs...)
	s.cfg.Concurrency = 8
	s.cfg.DrainTimeout = 80 * time.Millisecond // short: attempts in flight are cancelled, like a kill
	first, stop := s.start(t)
	require.Eventually(t, func() bool { return first.Stats().Sent >= int64(n-len(hanging)) }, 30*time.Second, 5*time.Millisecond)
	stop()
	require.Zero(t, first.Stats().Failed)

	for i := range hanging {
		require.True(t, s.push.SetBehaviour(subs[i].ID, pushservice.Always(pushservice.Answer{})))
	}
	second, _ := s.start(t)
	require.Eventually(t, func() bool {
		for _, sub := range subs {
			if len(delivered(s.push.Received(sub.ID))) == 0 {
				return false
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "every request delivered")
	require.Eventually(t, func() bool { return second.Stats().InFlight == 0 }, 10*time.Second, 10*time.Millisecond)
	for i, sub := range subs {
		require.Equal(t, 1, len(delivered(s.push.Received(sub.ID))), "request %s delivered once", reqs[i].RequestID)
	}
	require.Equal(t, int64(len(hanging)), second.Stats().Sent, "the second sender delivered only what the first had not")
	require.Positive(t, second.Stats().Skipped, "requests delivered but not committed were handed out again and skipped")
}
