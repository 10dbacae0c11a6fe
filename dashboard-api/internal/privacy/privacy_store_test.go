package privacy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// The real ClickHouse, Postgres and Kafka: two sites, and on them three
// subjects with data in every store: (A, ada), the one exported and erased,
// (A, bob) beside her and (B, ada), the same id on another site.

type world struct {
	store   *Store
	cp      *controlplane.Store
	topic   string
	brokers []string
	a, b    string // site ids
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, ch := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	cp := controlplane.NewStore(db, key)
	w := &world{cp: cp, brokers: strings.Split(testkit.Kafka(t), ","), topic: "test-privacy-" + rand.Text()[:10]}
	_, err = kafkax.EnsureTopics(t.Context(), w.brokers, 1, 1, w.topic)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kafkax.DeleteTopics(context.Background(), w.brokers, w.topic) })
	producer := kafkax.NewWriter(kafkax.WriterConfig{Brokers: w.brokers, Topic: w.topic}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = producer.Close() })
	w.store = New(db, ch, producer, nil)
	for _, id := range []*string{&w.a, &w.b} {
		site, err := cp.CreateSite(t.Context(), controlplane.NewSite{Name: "privacy", Contact: "mailto:ops@shop.example"})
		require.NoError(t, err)
		*id = site.ID
	}
	return w
}

// seed stores data of sub everywhere: four events (subscribed, page_view,
// push_sent, segment_entered: so subscribers, segment_membership and
// segment_history rows too), a sent and a pending scheduled send, a
// dispatch, an automation entry, and two push deliveries (one found through
// the scheduled send, one only through the push id of an event).
func (w *world) seed(t *testing.T, sub Subject) {
	t.Helper()
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	sent, pending, onlyEvent := uuid.NewString(), uuid.NewString(), uuid.NewString()
	b, err := w.store.ch.PrepareBatch(ctx, `INSERT INTO events (event_id, site_id, subscriber_id, type, time, client_time,
		server_time, url, ip, endpoint, p256dh, auth, push_id, segment_id, reason, kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	rows := []struct{ typ, endpoint, push, segment string }{
		{"subscribed", "https://push.example/" + sub.SubscriberID, "", ""},
		{"page_view", "", "", ""},
		{"push_sent", "", sent, ""},
		{"push_delivered", "", onlyEvent, ""},
		{"segment_entered", "", "", "seg-1"},
	}
	for i, r := range rows {
		require.NoError(t, b.Append(uuid.New(), sub.SiteID, sub.SubscriberID, r.typ, at.Add(time.Duration(i)*time.Second),
			at, at, "https://shop.example/", "203.0.113.0", r.endpoint, "p256", "auth", r.push, r.segment, "event",
			"test", uint32(0), uint64(i)))
	}
	require.NoError(t, b.Send())

	a, err := w.cp.CreateAutomation(ctx, sub.SiteID, controlplane.NewAutomation{
		Name:       uuid.NewString(),
		Definition: json.RawMessage(`{"trigger": {"kind": "subscribed"}, "steps": [{"message": {"title": "Hi", "url": "https://shop.example/"}}]}`),
	})
	require.NoError(t, err)
	for _, s := range []struct{ id, state string }{{sent, "sent"}, {pending, "pending"}} {
		_, err = w.store.pg.Exec(ctx, `INSERT INTO scheduled_sends (id, site_id, subscriber_id, source, automation_id,
			automation_version, step, due_at, state) VALUES ($1, $2, $3, 'automation', $4, 1, 0, now(), $5)`,
			s.id, sub.SiteID, sub.SubscriberID, a.ID, s.state)
		require.NoError(t, err)
	}
	_, err = w.store.pg.Exec(ctx, `INSERT INTO dispatch_log (request_id, site_id, subscriber_id, sent_at) VALUES ($1, $2, $3, now())`,
		sent, sub.SiteID, sub.SubscriberID)
	require.NoError(t, err)
	_, err = w.store.pg.Exec(ctx, `INSERT INTO automation_entries (automation_id, subscriber_id, entered_at) VALUES ($1, $2, now())`,
		a.ID, sub.SubscriberID)
	require.NoError(t, err)
	for _, id := range []string{sent, onlyEvent} {
		_, err = w.store.pg.Exec(ctx, `INSERT INTO push_deliveries (request_id, site_id, outcome, status, attempts)
			VALUES ($1, $2, 'push_sent', 201, 1)`, id, sub.SiteID)
		require.NoError(t, err)
	}
}

// seeded is what seed stores, by table.
var seeded = map[string]int{
	"events": 5, "subscribers": 1, "segment_membership": 1, "segment_history": 1,
	"scheduled_sends": 2, "dispatch_log": 1, "automation_entries": 1, "push_deliveries": 2,
}

type exported struct {
	SiteID       string                      `json:"site_id"`
	SubscriberID string                      `json:"subscriber_id"`
	Tables       map[string][]map[string]any `json:"tables"`
	Counts       map[string]int              `json:"counts"`
	Complete     bool                        `json:"complete"`
	Error        string                      `json:"error"`
}

func (w *world) export(t *testing.T, sub Subject) exported {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, w.store.Export(t.Context(), sub, &buf))
	var out exported
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out), buf.String())
	return out
}

// rowCounts is how many rows of each table belong to sub.
func (w *world) rowCounts(t *testing.T, sub Subject) map[string]int {
	t.Helper()
	out := w.export(t, sub)
	require.True(t, out.Complete, out.Error)
	got := map[string]int{}
	for table := range seeded {
		got[table] = len(out.Tables[table])
	}
	return got
}

func TestExportHasEverythingOfTheSubscriberAndNothingElse(t *testing.T) {
	w := newWorld(t)
	ada, bob, adaB := Subject{w.a, "ada"}, Subject{w.a, "bob"}, Subject{w.b, "ada"}
	for _, s := range []Subject{ada, bob, adaB} {
		w.seed(t, s)
	}
	out := w.export(t, ada)
	require.True(t, out.Complete, out.Error)
	require.Equal(t, ada.SiteID, out.SiteID)
	require.Equal(t, "ada", out.SubscriberID)
	for table, n := range seeded {
		require.Len(t, out.Tables[table], n, table)
		require.Equal(t, n, out.Counts[table], table)
		for _, row := range out.Tables[table] {
			if v, ok := row["subscriber_id"]; ok {
				require.Equal(t, "ada", v, table)
			}
			if v, ok := row["site_id"]; ok {
				require.Equal(t, ada.SiteID, v, table)
			}
		}
	}
	ev := out.Tables["events"][0]
	require.Equal(t, "subscribed", ev["type"], "events in time order")
	require.Equal(t, "203.0.113.0", ev["ip"])
	require.Equal(t, "https://push.example/ada", ev["endpoint"])
	require.Contains(t, ev, "props")
	require.NotContains(t, ev, "kafka_offset")
	require.EqualValues(t, 1, out.Tables["segment_membership"][0]["member"])

	ok, err := w.store.Exists(t.Context(), Subject{w.a, "nobody"})
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = w.store.Exists(t.Context(), ada)
	require.NoError(t, err)
	require.True(t, ok)
}

// diff returns the tables whose counts differ, nil when none does.
func diff(want map[string]int, got map[string]int) map[string]int {
	var out map[string]int
	for k, n := range want {
		if got[k] != n {
			if out == nil {
				out = map[string]int{}
			}
			out[k] = got[k]
		}
	}
	return out
}
