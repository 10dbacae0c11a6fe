package segrun

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// The fast tier: one partition owner with in-memory fakes for the control
// plane, ClickHouse, the topic's tail and the producer. The real-service
// test is stream/segments_integration_test.go.

const site = "site-1"

type fakeDefs struct{ segs []controlplane.Segment }

func (f *fakeDefs) SegmentsSince(_ context.Context, rev int64) ([]controlplane.Segment, error) {
	var out []controlplane.Segment
	for _, s := range f.segs {
		if s.Revision > rev {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeDefs) add(t *testing.T, id, text string) {
	rule, err := segments.ParseText(text)
	require.NoError(t, err)
	js, err := json.Marshal(rule)
	require.NoError(t, err)
	f.segs = append(f.segs, controlplane.Segment{ID: id, SiteID: site, Rule: js, Revision: int64(len(f.segs) + 1)})
}

type fakeStore struct{} // the sink stored nothing yet

func (fakeStore) Watermark(context.Context, string, int) (int64, error) { return -1, nil }
func (fakeStore) Replay(context.Context, Scope, func(string, string, *segments.Event) error) error {
	return nil
}

func (fakeStore) Transitions(context.Context, Scope, func(string, string, string, bool, time.Time) error) error {
	return nil
}

// fakeLog is the partition as a list of message values.
type fakeLog struct{ values [][]byte }

func (f *fakeLog) LastOffset(context.Context, int) (int64, error) { return int64(len(f.values)), nil }

func (f *fakeLog) Scan(_ context.Context, _ int, from, to int64, fn func([]byte)) error {
	for _, v := range f.values[from:to] {
		fn(v)
	}
	return nil
}

type fakeProducer struct {
	mu   sync.Mutex
	sent []schemas.Event
}

func (p *fakeProducer) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		var e schemas.Event
		if err := json.Unmarshal(m.Value, &e); err != nil {
			return err
		}
		p.sent = append(p.sent, e)
	}
	return nil
}

type harness struct {
	rt   *Runner
	log  *fakeLog
	prod *fakeProducer
	now  time.Time
}

func newHarness(t *testing.T, defs *fakeDefs, log *fakeLog, now time.Time) *harness {
	h := &harness{log: log, prod: &fakeProducer{}, now: now}
	h.rt = New(Config{Topic: "events"}, Deps{
		Definitions: defs, Store: fakeStore{}, Producer: h.prod,
		Now: func() time.Time { return h.now },
	}, slog.New(slog.DiscardHandler))
	h.rt.tail = log
	require.NoError(t, h.rt.catalog.refresh(t.Context()))
	return h
}

func event(t *testing.T, sub string, typ schemas.EventType, name string, at time.Time) []byte {
	v, err := json.Marshal(schemas.Event{EventID: uuid.NewString(), SiteID: site, SubscriberID: sub, Type: typ, Name: name, Time: at})
	require.NoError(t, err)
	return v
}

// feed hands the owner the log's messages from offset from.
func feed(o *owner, log *fakeLog, from int) {
	for i := from; i < len(log.values); i++ {
		o.handle(kafka.Message{Offset: int64(i), HighWaterMark: int64(len(log.values)), Value: log.values[i]})
	}
}

func transitionsOf(p *fakeProducer) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.sent {
		out = append(out, string(e.Type)+" "+e.SegmentID+" "+e.SubscriberID+" "+e.Reason+" "+e.Time.Format(time.RFC3339Nano))
	}
	return out
}

func TestTimerFiresAtTheWindowEnd(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	defs := &fakeDefs{}
	defs.add(t, "abandoned", `sequence event add_to_cart then not event conversion within 1h`)
	log := &fakeLog{values: [][]byte{
		event(t, "a", schemas.EventCustom, "add_to_cart", t0),
		event(t, "b", schemas.EventCustom, "add_to_cart", t0),
		event(t, "b", schemas.EventConversion, "", t0.Add(30*time.Minute)),
	}}
	h := newHarness(t, defs, log, t0)
	o := newOwner(h.rt, 0)
	_, err := o.restore(t.Context(), 0)
	require.NoError(t, err)
	feed(o, log, 0)
	o.advance(t0.Add(time.Hour - time.Millisecond))
	require.NoError(t, o.flush(t.Context()))
	require.Empty(t, transitionsOf(h.prod), "not before the hour has passed")
	o.advance(t0.Add(2 * time.Hour))
	require.NoError(t, o.flush(t.Context()))
	require.Equal(t, []string{"segment_entered abandoned a timer 2026-03-01T11:00:00Z"}, transitionsOf(h.prod))
}

// TestRestartRecognisesTheTail: a first owner produces transitions and dies
// before committing; the next owner replays the same messages and produces
// nothing again, then carries on normally.
func TestRestartRecognisesTheTail(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	defs := &fakeDefs{}
	defs.add(t, "recent", `event page_view within 1m`)
	log := &fakeLog{values: [][]byte{
		event(t, "a", schemas.EventPageView, "", t0),
		event(t, "b", schemas.EventPageView, "", t0.Add(10*time.Second)),
	}}
	first := newHarness(t, defs, log, t0)
	o := newOwner(first.rt, 0)
	_, err := o.restore(t.Context(), 0)
	require.NoError(t, err)
	feed(o, log, 0)
	o.advance(t0.Add(65 * time.Second)) // a leaves at t0+1m
	require.NoError(t, o.flush(t.Context()))
	want := []string{
		"segment_entered recent a event 2026-03-01T10:00:00Z",
		"segment_entered recent b event 2026-03-01T10:00:10Z",
		"segment_exited recent a timer 2026-03-01T10:01:00Z",
	}
	require.Equal(t, want, transitionsOf(first.prod))
	// The transitions reached the topic; nothing was stored or committed.
	for _, e := range first.prod.sent {
		v, err := json.Marshal(e)
		require.NoError(t, err)
		log.values = append(log.values, v)
	}

	second := newHarness(t, defs, log, t0.Add(65*time.Second))
	o = newOwner(second.rt, 0)
	from, err := o.restore(t.Context(), 0)
	require.NoError(t, err)
	require.Equal(t, int64(0), from)
	feed(o, log, 0)
	o.advance(second.now)
	require.NoError(t, o.flush(t.Context()))
	require.Empty(t, transitionsOf(second.prod), "everything was produced before the restart")
	// The clock resumed at the last emitted instant (a's exit), where a is
	// out and b in: b's entry is recognised; a's enter/exit pair nets out.
	require.Equal(t, int64(1), second.rt.Stats().Recognised)

	// Later transitions are produced as usual.
	second.now = t0.Add(2 * time.Minute)
	o.advance(second.now)
	require.NoError(t, o.flush(t.Context()))
	require.Equal(t, []string{"segment_exited recent b timer 2026-03-01T10:01:10Z"}, transitionsOf(second.prod))
}

// TestNewSegmentIsBackfilled: a segment added while running enters its
// current members with cause backfill.
func TestNewSegmentIsBackfilled(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	defs := &fakeDefs{}
	defs.add(t, "viewers", `event page_view within 1d`)
	log := &fakeLog{values: [][]byte{event(t, "a", schemas.EventCustom, "signup", t0)}}
	h := newHarness(t, defs, log, t0)
	o := newOwner(h.rt, 0)
	_, err := o.restore(t.Context(), 0)
	require.NoError(t, err)
	feed(o, log, 0)
	require.NoError(t, o.flush(t.Context()))
	require.Empty(t, transitionsOf(h.prod))

	// The rebuild replays stored events: give the fake store the event by
	// making the owner's own history the replay source.
	defs.add(t, "signed up", `event signup within 1d`)
	require.NoError(t, h.rt.catalog.refresh(t.Context()))
	h.rt.store = replayOf(t, log)
	require.NoError(t, o.refresh(t.Context()))
	require.NoError(t, o.flush(t.Context()))
	require.Equal(t, []string{"segment_entered signed up a backfill 2026-03-01T10:00:00Z"}, transitionsOf(h.prod))
}

// storeOf is a Store holding a log's events as if the sink had stored them.
type storeOf struct {
	fakeStore
	events []schemas.Event
}

func replayOf(t *testing.T, log *fakeLog) *storeOf {
	s := &storeOf{}
	for _, v := range log.values {
		var e schemas.Event
		require.NoError(t, json.Unmarshal(v, &e))
		s.events = append(s.events, e)
	}
	return s
}

func (s *storeOf) Watermark(context.Context, string, int) (int64, error) {
	return int64(len(s.events)) - 1, nil
}

func (s *storeOf) Replay(_ context.Context, q Scope, fn func(string, string, *segments.Event) error) error {
	for i := range s.events {
		e := s.events[i]
		if int64(i) >= q.Before || !segments.Evaluated(string(e.Type)) {
			continue
		}
		ev := segments.FromSchema(&e)
		if err := fn(e.SiteID, e.SubscriberID, &ev); err != nil {
			return err
		}
	}
	return nil
}
