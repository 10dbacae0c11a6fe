package stream

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/schemas"
)

// TestAutomations runs the stream role (sink and automations) on the real
// Kafka, ClickHouse and Postgres: a welcome automation sends exactly one
// push request on subscribe, an event automation without delay one with
// the personalised title, and a restart that replays the whole topic (its
// consumer offsets lost) sends nothing twice.
func TestAutomations(t *testing.T) {
	st := newStack(t)
	db, _ := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	site, err := store.CreateSite(t.Context(), controlplane.NewSite{Name: "automations", Contact: "mailto:ops@example.com"})
	require.NoError(t, err)
	automationOf := func(def string) string {
		a, err := store.CreateAutomation(t.Context(), site.ID, controlplane.NewAutomation{
			Name: uuid.NewString(), Definition: json.RawMessage(def), Status: controlplane.AutomationEnabled,
		})
		require.NoError(t, err)
		return a.ID
	}
	welcome := automationOf(`{"trigger": {"kind": "subscribed"},
		"steps": [{"message": {"title": "Welcome", "url": "https://shop.example/"}}]}`)
	cart := automationOf(`{"trigger": {"kind": "event", "event": {"type": "custom", "name": "add_to_cart"}},
		"steps": [{"message": {"title": "{{ subscriber.first_name | default: \"friend\" }}, your {{ event.item }} is waiting",
			"url": "https://shop.example/cart"}}]}`)

	requests := st.requestsTopic(t)
	cfg := testConfig(t, 100)
	cfg.AutomationsGroup = "test-automations-" + uuid.NewString()
	cfg.RequestsTopic = requests.topic
	cfg.AutomationsOwnSites = true // other stacks may share this Postgres
	run := st.startAutomations(t, cfg, store)

	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := func(typ schemas.EventType, name string, props map[string]string) schemas.Event {
		return schemas.Event{
			EventID: uuid.NewString(), SiteID: site.ID, SubscriberID: "ada", Type: typ, Name: name,
			Time: now, ClientTime: now, ServerTime: now, Props: props,
		}
	}
	subscribed := ev(schemas.EventSubscribed, "", nil)
	subscribed.Subscription = &schemas.Subscription{Endpoint: "https://push.example/ada", P256dh: "key", Auth: "auth"}
	produced := time.Now()
	st.produce(t,
		ev(schemas.EventIdentify, "", map[string]string{"first_name": "Ada"}),
		subscribed,
		ev(schemas.EventCustom, "add_to_cart", map[string]string{"item": "Lamp"}),
		ev(schemas.EventCustom, "page_view_like", nil), // triggers nothing
	)
	got := requests.wait(t, 2, 30*time.Second)
	requests.mu.Lock()
	t.Logf("push requests read %s (welcome) and %s (personalised: waits for the sink) after producing the events",
		requests.at[byAutomationID(got, welcome)].Sub(produced), requests.at[byAutomationID(got, cart)].Sub(produced))
	requests.mu.Unlock()
	byAutomation := map[string]schemas.PushRequest{}
	for _, r := range got {
		byAutomation[r.AutomationID] = r
	}
	require.Contains(t, byAutomation, welcome)
	require.Contains(t, byAutomation, cart)
	var payload struct {
		Title  string `json:"title"`
		PushID string `json:"push_id"`
	}
	require.NoError(t, json.Unmarshal(byAutomation[cart].Payload, &payload))
	require.Equal(t, "Ada, your Lamp is waiting", payload.Title)
	require.Equal(t, byAutomation[cart].RequestID, payload.PushID)
	require.Equal(t, "https://push.example/ada", byAutomation[welcome].Subscription.Endpoint)
	require.Equal(t, "0", byAutomation[welcome].StepID)

	// Restart with the trigger offsets lost: the whole topic is replayed,
	// and the deterministic request ids make every row a conflict.
	require.NoError(t, run.stop())
	cfg.AutomationsGroup = "test-automations-" + uuid.NewString()
	run = st.startAutomations(t, cfg, store)
	require.Eventually(t, func() bool {
		lag, err := kafkax.GroupLag(t.Context(), st.brokers, cfg.AutomationsGroup, st.topic)
		return err == nil && lag == 0
	}, 30*time.Second, 200*time.Millisecond, "the replay is consumed")
	time.Sleep(time.Second) // one more dispatcher round after the last insert
	require.Empty(t, requests.more(), "nothing sent twice")
	require.NoError(t, run.stop())

	var sent, all int
	require.NoError(t, db.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE state = 'sent'), count(*)
		FROM scheduled_sends WHERE site_id = $1`, site.ID).Scan(&sent, &all))
	require.Equal(t, 2, sent)
	require.Equal(t, 2, all)
}

// startAutomations runs the stream role with automations.
func (st *stack) startAutomations(t *testing.T, cfg Config, store *controlplane.Store) *running {
	t.Helper()
	cfg.Topic = st.topic
	svc, err := New(cfg, Deps{ClickHouse: openClickHouse(t, st.dsn), Brokers: st.brokers, Automations: store}, st.log)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop() })
	return r
}

// pushRequests collects the push requests of a topic of the test's own.
type pushRequests struct {
	topic string
	mu    sync.Mutex
	seen  []schemas.PushRequest
	at    map[string]time.Time // request id -> read
	taken int
}

func (st *stack) requestsTopic(t *testing.T) *pushRequests {
	t.Helper()
	p := &pushRequests{topic: "test.push-requests.v1." + uuid.NewString()[:8], at: map[string]time.Time{}}
	_, err := kafkax.EnsureTopics(t.Context(), st.brokers, 3, 1, p.topic)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := kafkax.DeleteTopics(context.Background(), st.brokers, p.topic); err != nil {
			t.Logf("delete topic %s: %v", p.topic, err)
		}
	})
	for part := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: st.brokers, Topic: p.topic, Partition: part, MaxWait: 50 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { _ = r.Close() }()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				var req schemas.PushRequest
				if json.Unmarshal(m.Value, &req) == nil {
					p.mu.Lock()
					p.seen = append(p.seen, req)
					p.at[req.RequestID] = time.Now()
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

// wait returns the next n requests, failing after timeout.
func (p *pushRequests) wait(t *testing.T, n int, timeout time.Duration) []schemas.PushRequest {
	t.Helper()
	var out []schemas.PushRequest
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.seen)-p.taken < n {
			return false
		}
		out = append(out, p.seen[p.taken:p.taken+n]...)
		p.taken += n
		return true
	}, timeout, 50*time.Millisecond)
	return out
}

// more returns the requests not taken yet.
func (p *pushRequests) more() []schemas.PushRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]schemas.PushRequest(nil), p.seen[p.taken:]...)
}

// TestCampaign runs a throttled two-variant campaign on the real stack:
// its members come from the stored segment membership (included minus
// excluded), each gets exactly one push request of its variant, and the
// campaign ends done.
func TestCampaign(t *testing.T) {
	st := newStack(t)
	db, _ := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	site, err := store.CreateSite(t.Context(), controlplane.NewSite{Name: "campaign", Contact: "mailto:ops@example.com"})
	require.NoError(t, err)
	vip, churned := uuid.NewString(), uuid.NewString()

	now := time.Now().UTC().Truncate(time.Millisecond)
	var evs []schemas.Event
	for i := range 6 {
		sub := "member-" + string(rune('a'+i))
		e := schemas.Event{
			EventID: uuid.NewString(), SiteID: site.ID, SubscriberID: sub, Type: schemas.EventSubscribed,
			Time: now, ClientTime: now, ServerTime: now,
			Subscription: &schemas.Subscription{Endpoint: "https://push.example/" + sub, P256dh: "key", Auth: "auth"},
		}
		entered := e
		entered.EventID, entered.Type, entered.Subscription, entered.SegmentID, entered.Reason = uuid.NewString(), schemas.EventSegmentEntered, nil, vip, "event"
		evs = append(evs, e, entered)
		if i == 5 { // excluded
			churn := entered
			churn.EventID, churn.SegmentID = uuid.NewString(), churned
			evs = append(evs, churn)
		}
	}
	st.produce(t, evs...)
	requests := st.requestsTopic(t)
	cfg := testConfig(t, 100)
	cfg.AutomationsGroup = "test-automations-" + uuid.NewString()
	cfg.RequestsTopic = requests.topic
	cfg.AutomationsOwnSites = true
	st.startAutomations(t, cfg, store)
	require.Eventually(t, func() bool {
		var n uint64
		err := st.ch.QueryRow(t.Context(), `SELECT count() FROM segment_membership FINAL WHERE site_id = ? AND member = 1`, site.ID).Scan(&n)
		return err == nil && n == 7
	}, 30*time.Second, 100*time.Millisecond, "the memberships are stored")

	c, err := store.CreateCampaign(t.Context(), site.ID, controlplane.NewCampaign{Name: "spring", Definition: json.RawMessage(`{
		"include": ["` + vip + `"], "exclude": ["` + churned + `"], "throttle_per_minute": 600,
		"variants": [{"name": "a", "message": {"title": "A", "url": "https://shop.example/"}},
			{"name": "b", "message": {"title": "B", "url": "https://shop.example/"}}]}`)})
	require.NoError(t, err)
	_, err = store.ScheduleCampaign(t.Context(), site.ID, c.ID)
	require.NoError(t, err)

	got := requests.wait(t, 5, 30*time.Second)
	subs := map[string]string{}
	for _, r := range got {
		require.Equal(t, c.ID, r.CampaignID)
		require.Contains(t, []string{"a", "b"}, r.Variant)
		subs[r.SubscriberID] = r.Variant
	}
	require.Len(t, subs, 5, "each member once")
	require.NotContains(t, subs, "member-f", "excluded")
	require.Eventually(t, func() bool {
		c, err := store.Campaign(t.Context(), site.ID, c.ID)
		return err == nil && c.Status == controlplane.CampaignDone && c.Total == 5
	}, 30*time.Second, 100*time.Millisecond, "done once nothing is pending")
	p, err := store.CampaignProgress(t.Context(), site.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, controlplane.Progress{Total: 5, Sent: 5}, p)
	time.Sleep(500 * time.Millisecond)
	require.Empty(t, requests.more(), "nothing twice")
}

// byAutomationID is the request id of the request of automation id.
func byAutomationID(reqs []schemas.PushRequest, id string) string {
	for _, r := range reqs {
		if r.AutomationID == id {
			return r.RequestID
		}
	}
	return ""
}
