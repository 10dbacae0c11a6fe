package automate

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/automation"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// fakeStore is an in-memory control plane with the semantics the runtime
// relies on: ON CONFLICT DO NOTHING inserts, cancel by key, claim of due
// pending rows with outcomes applied (and sent ones logged).
type fakeStore struct {
	mu          sync.Mutex
	automations []controlplane.Automation
	versions    map[versionKey]json.RawMessage
	entries     map[string]time.Time // automation|subscriber -> entered
	rows        map[string]controlplane.ScheduledSend
	dispatches  map[string][]time.Time // site:subscriber
	settings    controlplane.SiteSettings
	campaigns   map[string]controlplane.Campaign
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		versions: map[versionKey]json.RawMessage{}, entries: map[string]time.Time{},
		rows: map[string]controlplane.ScheduledSend{}, dispatches: map[string][]time.Time{},
		campaigns: map[string]controlplane.Campaign{},
	}
}

// put stores an automation version and makes it current.
func (f *fakeStore) put(a controlplane.Automation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a.Revision = int64(len(f.automations) + 1)
	f.automations = append(f.automations, a)
	f.versions[versionKey{a.ID, a.Version}] = a.Definition
}

func (f *fakeStore) AutomationsSince(_ context.Context, revision int64) ([]controlplane.Automation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []controlplane.Automation
	for _, a := range f.automations {
		if a.Revision > revision {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeStore) AutomationVersion(_ context.Context, id string, version int) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.versions[versionKey{id, version}]
	if !ok {
		return nil, controlplane.ErrNotFound
	}
	return v, nil
}

func (f *fakeStore) EnterAutomation(_ context.Context, id, sub string, at time.Time, cooldown time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := id + "|" + sub
	if prev, ok := f.entries[k]; ok && prev.After(at.Add(-cooldown)) {
		return false, nil
	}
	f.entries[k] = at
	return true, nil
}

func (f *fakeStore) InsertScheduled(_ context.Context, rows []controlplane.ScheduledSend) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range rows {
		if _, ok := f.rows[r.ID]; ok {
			continue
		}
		r.State = statePending
		if r.CreatedAt.IsZero() {
			r.CreatedAt = time.Now()
		}
		f.rows[r.ID] = r
		n++
	}
	return n, nil
}

func (f *fakeStore) CancelPending(_ context.Context, key string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for id, r := range f.rows {
		if r.State == statePending && r.CancelKey == key && key != "" {
			r.State, r.Reason = "cancelled", "cancelled_by_event"
			f.rows[id] = r
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) ClaimDue(_ context.Context, now time.Time, limit int, sites []string,
	fn func([]controlplane.ScheduledSend) ([]controlplane.Outcome, error),
) (int, error) {
	f.mu.Lock()
	var due []controlplane.ScheduledSend
	for _, r := range f.rows {
		if r.State == statePending && !r.DueAt.After(now) && (sites == nil || slices.Contains(sites, r.SiteID)) {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].DueAt.Before(due[j].DueAt) })
	if len(due) > limit {
		due = due[:limit]
	}
	f.mu.Unlock()
	if len(due) == 0 {
		return 0, nil
	}
	outcomes, err := fn(due)
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range outcomes {
		r := f.rows[o.ID]
		r.Reason = o.Reason
		r.Attempts++
		if o.State == statePending {
			r.DueAt = o.DueAt
		} else {
			r.State = o.State
		}
		if o.State == stateSent {
			k := r.SiteID + ":" + r.SubscriberID
			f.dispatches[k] = append(f.dispatches[k], now)
		}
		f.rows[o.ID] = r
	}
	return len(due), nil
}

func (f *fakeStore) SitePolicy(context.Context, string) (controlplane.SiteSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings, nil
}

func (f *fakeStore) RecentDispatches(_ context.Context, site, sub string, since time.Time) ([]time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, t := range f.dispatches[site+":"+sub] {
		if t.After(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeStore) CampaignsToStart(_ context.Context, now time.Time) ([]controlplane.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []controlplane.Campaign
	for _, c := range f.campaigns {
		if c.Status == controlplane.CampaignScheduled && !c.SendAt.After(now) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeStore) Campaign(_ context.Context, _, id string) (controlplane.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.campaigns[id]
	if !ok {
		return c, controlplane.ErrNotFound
	}
	return c, nil
}

func (f *fakeStore) MarkCampaign(_ context.Context, id, status string, total int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.campaigns[id]
	if c.Status == controlplane.CampaignCancelled {
		return controlplane.ErrState
	}
	c.Status, c.Total = status, total
	f.campaigns[id] = c
	return nil
}

func (f *fakeStore) CampaignProgress(_ context.Context, _, id string) (controlplane.Progress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := controlplane.Progress{Total: f.campaigns[id].Total}
	for _, r := range f.rows {
		if r.CampaignID == id && r.State == statePending {
			p.Pending++
		}
	}
	return p, nil
}

// row returns the stored row with that id.
func (f *fakeStore) row(t *testing.T, id string) controlplane.ScheduledSend {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[id]
	require.True(t, ok, "row %s stored", id)
	return r
}

func (f *fakeStore) all() []controlplane.ScheduledSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Collect(func(yield func(controlplane.ScheduledSend) bool) {
		for _, r := range f.rows {
			if !yield(r) {
				return
			}
		}
	})
	sort.Slice(out, func(i, j int) bool {
		return out[i].DueAt.Before(out[j].DueAt) || out[i].DueAt.Equal(out[j].DueAt) && out[i].ID < out[j].ID
	})
	return out
}

// fakeLookup is ClickHouse: subscribers, memberships, events, members.
type fakeLookup struct {
	subs       map[string]Subscriber // site:subscriber
	membership map[string]bool       // site|segment|subscriber
	changed    time.Time
	events     map[string][]segments.Event // site:subscriber
	members    []Member                    // sorted by id
}

func newFakeLookup() *fakeLookup {
	return &fakeLookup{subs: map[string]Subscriber{}, membership: map[string]bool{}, events: map[string][]segments.Event{}}
}

func (l *fakeLookup) Subscribers(_ context.Context, site string, ids []string, _ bool) (map[string]Subscriber, error) {
	out := map[string]Subscriber{}
	for _, id := range ids {
		if s, ok := l.subs[site+":"+id]; ok {
			out[id] = s
		}
	}
	return out, nil
}

func (l *fakeLookup) Membership(_ context.Context, site, segment, sub string) (bool, time.Time, bool, error) {
	m, ok := l.membership[site+"|"+segment+"|"+sub]
	return m, l.changed, ok, nil
}

func (l *fakeLookup) Events(_ context.Context, site, sub, typ string, from, to time.Time) ([]segments.Event, error) {
	var out []segments.Event
	for _, e := range l.events[site+":"+sub] {
		if e.Type == typ && e.Time.After(from) && !e.Time.After(to) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (l *fakeLookup) Members(_ context.Context, _ Audience, after string, limit int) ([]Member, error) {
	var out []Member
	for _, m := range l.members {
		if m.ID > after && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (l *fakeLookup) TopicSites(context.Context, string) ([]string, error) { return nil, nil }

// fakeProducer records what was produced.
type fakeProducer struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func (p *fakeProducer) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *fakeProducer) requests(t *testing.T) []schemas.PushRequest {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []schemas.PushRequest
	for _, m := range p.msgs {
		var r schemas.PushRequest
		require.NoError(t, json.Unmarshal(m.Value, &r))
		out = append(out, r)
	}
	return out
}

func (p *fakeProducer) events(t *testing.T) []schemas.Event {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []schemas.Event
	for _, m := range p.msgs {
		var e schemas.Event
		require.NoError(t, json.Unmarshal(m.Value, &e))
		out = append(out, e)
	}
	return out
}

// world is a runtime on fakes with a settable clock.
type world struct {
	rt       *Runtime
	store    *fakeStore
	lookup   *fakeLookup
	requests *fakeProducer
	events   *fakeProducer
	now      time.Time
	site     string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{
		store: newFakeStore(), lookup: newFakeLookup(), requests: &fakeProducer{}, events: &fakeProducer{},
		now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), site: uuid.NewString(),
	}
	w.rt = New(Config{Topic: "events", Group: "g"}, Deps{
		Store: w.store, Lookup: w.lookup, Requests: w.requests, Events: w.events, Now: func() time.Time { return w.now },
	}, slog.New(slog.DiscardHandler))
	return w
}

// automation stores an enabled automation (version 1) from its JSON form
// and loads it into the catalog.
func (w *world) automation(t testing.TB, def string, status string) string {
	t.Helper()
	_, problems := automation.ParseAutomation([]byte(def))
	require.Empty(t, problems)
	id := uuid.NewString()
	w.store.put(controlplane.Automation{ID: id, SiteID: w.site, Status: status, Version: 1, Definition: json.RawMessage(def)})
	require.NoError(t, w.rt.catalog.refresh(t.Context()))
	return id
}

// subscribe makes sub a current subscriber with attributes.
func (w *world) subscribe(sub string, attrs map[string]string) {
	w.lookup.subs[w.site+":"+sub] = Subscriber{
		Status:       "subscribed",
		Subscription: schemas.PushSubscription{Endpoint: "https://push.example/" + sub, P256dh: "p", Auth: "a"},
		Attrs:        attrs,
	}
}

// event is a beacon event of sub at the world's clock.
func (w *world) event(sub string, typ schemas.EventType, name string, props map[string]string) *schemas.Event {
	return &schemas.Event{EventID: uuid.NewString(), SiteID: w.site, SubscriberID: sub, Type: typ, Name: name, Time: w.now, Props: props}
}

// trigger hands an event to the trigger consumer.
func (w *world) trigger(t testing.TB, e *schemas.Event) {
	t.Helper()
	v, err := json.Marshal(e)
	require.NoError(t, err)
	require.NoError(t, w.rt.handle(t.Context(), kafka.Message{Value: v}))
}

// dispatch runs the dispatcher once at the world's clock.
func (w *world) dispatch(t testing.TB) {
	t.Helper()
	w.rt.dispatch.drain(t.Context())
}

// titles are the rendered titles of the produced requests.
func titles(t *testing.T, reqs []schemas.PushRequest) []string {
	t.Helper()
	var out []string
	for _, r := range reqs {
		var p struct {
			Title string `json:"title"`
		}
		require.NoError(t, json.Unmarshal(r.Payload, &p))
		out = append(out, p.Title)
	}
	return out
}

func msg(title string) string {
	return `{"title": "` + strings.ReplaceAll(title, `"`, `\"`) + `", "url": "https://shop.example/"}`
}

// Waits of Eventually in tests (not timings under test).
const (
	testWait = 5 * time.Second
	testTick = 5 * time.Millisecond
)
