package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// TestSegmentEvaluator runs the stream role (sink and segment evaluator) on
// the real Kafka, ClickHouse and Postgres: transitions on events and on
// timers, a sequence that fires only when its window passes, a segment
// created while running (backfilled), a restart that emits nothing twice,
// and the membership table the API reads.
func TestSegmentEvaluator(t *testing.T) {
	st := newStack(t)
	db, _ := testdb.Open(t)
	key, err := controlplane.ParseMasterKey(testkit.MasterKey(t))
	require.NoError(t, err)
	store := controlplane.NewStore(db, key)
	site, err := store.CreateSite(t.Context(), controlplane.NewSite{Name: "segments", Contact: "mailto:ops@example.com"})
	require.NoError(t, err)
	segment := func(name, text string) string {
		rule, err := segments.ParseText(text)
		require.NoError(t, err)
		js, err := json.Marshal(rule)
		require.NoError(t, err)
		s, err := store.CreateSegment(t.Context(), site.ID, controlplane.NewSegment{Name: name, Rule: js})
		require.NoError(t, err)
		return s.ID
	}
	viewers := segment("viewers", `event page_view within 1h`)
	recent := segment("recent carts", `event add_to_cart within 1m`)
	abandoned := segment("abandoned", `sequence event add_to_cart then not event conversion within 1m`)

	watch := st.watchTransitions(t, site.ID)
	cfg := testConfig(t, 100)
	cfg.SegmentsGroup = "test-segments-" + uuid.NewString()
	run := st.startSegments(t, cfg, store)

	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := func(sub string, typ schemas.EventType, name string, at time.Time) schemas.Event {
		return schemas.Event{
			EventID: uuid.NewString(), SiteID: site.ID, SubscriberID: sub, Type: typ, Name: name,
			Time: at, ClientTime: at, ServerTime: now,
		}
	}
	cartAt := now.Add(-50 * time.Second)
	st.produce(t,
		ev("viewer", schemas.EventPageView, "", now),
		ev("shopper", schemas.EventCustom, "add_to_cart", cartAt),
		ev("buyer", schemas.EventCustom, "add_to_cart", cartAt),
		ev("buyer", schemas.EventConversion, "purchase", cartAt.Add(10*time.Second)),
	)
	// On events: viewer enters viewers; both carts enter recent carts.
	got := watch.wait(t, 3, 20*time.Second)
	require.ElementsMatch(t, []string{
		"entered " + viewers + " viewer event", "entered " + recent + " shopper event", "entered " + recent + " buyer event",
	}, got)
	// On timers, one minute after the carts: both leave recent carts, and
	// only the shopper (no conversion) enters abandoned, at exactly cart + 1m.
	got = watch.wait(t, 3, 30*time.Second)
	require.ElementsMatch(t, []string{
		"exited " + recent + " shopper timer", "exited " + recent + " buyer timer", "entered " + abandoned + " shopper timer",
	}, got)
	require.Equal(t, cartAt.Add(time.Minute), watch.instant("entered "+abandoned+" shopper timer"))

	// A segment created while running is backfilled with its current members.
	shoppers := segment("shoppers", `event add_to_cart within 1d`)
	got = watch.wait(t, 2, 20*time.Second)
	require.ElementsMatch(t, []string{"entered " + shoppers + " shopper backfill", "entered " + shoppers + " buyer backfill"}, got)

	// A restart restores from ClickHouse and the tail of the topic and emits
	// nothing again.
	require.NoError(t, run.stop())
	run = st.startSegments(t, cfg, store)
	st.produce(t, ev("viewer2", schemas.EventPageView, "", time.Now().UTC()))
	got = watch.wait(t, 1, 30*time.Second)
	require.Equal(t, []string{"entered " + viewers + " viewer2 event"}, got)
	watch.quiet(t, 3*time.Second)
	require.Zero(t, run.svc.segments.Stats().Transitions-1, "transitions after the restart besides viewer2's")

	// The membership table the API reads, fed by the stored transitions.
	require.Eventually(t, func() bool {
		var n uint64
		err := st.ch.QueryRow(t.Context(), `SELECT count() FROM segment_membership FINAL
			WHERE site_id = ? AND segment_id = ? AND member = 1`, site.ID, viewers).Scan(&n)
		return err == nil && n == 2
	}, 20*time.Second, 200*time.Millisecond)
}

// startSegments runs the stream role with the segment evaluator.
func (st *stack) startSegments(t *testing.T, cfg Config, defs *controlplane.Store) *running {
	t.Helper()
	cfg.Topic = st.topic
	svc, err := New(cfg, Deps{ClickHouse: openClickHouse(t, st.dsn), Brokers: st.brokers, Segments: defs}, st.log)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop() })
	return r
}

// transitions collects the segment transitions of one site from the topic,
// as "entered|exited <segment> <subscriber> <cause>".
type transitions struct {
	mu      sync.Mutex
	seen    []string
	at      map[string]time.Time
	taken   int
	changed chan struct{}
}

func (st *stack) watchTransitions(t *testing.T, site string) *transitions {
	t.Helper()
	w := &transitions{at: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for p := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: st.brokers, Topic: st.topic, Partition: p, MaxWait: 50 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { _ = r.Close() }()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				var e schemas.Event
				if json.Unmarshal(m.Value, &e) != nil || e.SiteID != site || segments.Evaluated(string(e.Type)) {
					continue
				}
				kind := "entered"
				if e.Type == schemas.EventSegmentExited {
					kind = "exited"
				}
				s := fmt.Sprintf("%s %s %s %s", kind, e.SegmentID, e.SubscriberID, e.Reason)
				w.mu.Lock()
				w.seen = append(w.seen, s)
				w.at[s] = e.Time
				w.mu.Unlock()
				select {
				case w.changed <- struct{}{}:
				default:
				}
			}
		}()
	}
	return w
}

// wait returns the next n transitions, failing after timeout.
func (w *transitions) wait(t *testing.T, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		if len(w.seen)-w.taken >= n {
			out := append([]string(nil), w.seen[w.taken:w.taken+n]...)
			w.taken += n
			w.mu.Unlock()
			return out
		}
		have := append([]string(nil), w.seen[w.taken:]...)
		w.mu.Unlock()
		select {
		case <-w.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("wanted %d more transitions within %s, got %q", n, timeout, have)
		}
	}
}

// quiet fails if any transition arrives within d.
func (w *transitions) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Empty(t, w.seen[w.taken:], "unexpected transitions")
}

func (w *transitions) instant(s string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at[s]
}
