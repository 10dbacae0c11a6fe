package segments

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// TestIncrementalEqualsExplain: on random worlds, the incremental evaluator
// (events in disordered arrival, state pruned as it goes) agrees with the
// direct evaluation over each subscriber's events that Explain does, for
// every segment, subscriber and instant.
func TestIncrementalEqualsExplain(t *testing.T) {
	checks := 0
	for seed := range uint64(40) {
		w := newWorld(seed, 12, 300, 10, 12)
		set, err := NewSet(w.defs)
		require.NoError(t, err)
		got := w.incremental(set)
		for i, at := range w.instants {
			for k, id := range set.Segments() {
				for _, s := range w.subs {
					x, err := set.Explain(id, w.eventsOf(s), at)
					require.NoError(t, err)
					inc := slices.Contains(got[i][k], s)
					checks++
					if inc != x.Member {
						t.Fatalf("seed %d segment %s (%s) subscriber %s at %s: incremental %t, direct %t\n%s",
							seed, id, Format(w.defs[slices.IndexFunc(w.defs, func(d Definition) bool { return d.ID == id })].Rule),
							s, at.Format(time.RFC3339Nano), inc, x.Member, explainText(x.Rule, ""))
					}
				}
			}
		}
	}
	t.Logf("checks=%d", checks)
}

// TestNextBoundsChange: membership never changes between an instant and the
// Next the evaluator reports, when no event comes in between.
func TestNextBoundsChange(t *testing.T) {
	for seed := range uint64(20) {
		w := newWorld(seed+100, 8, 200, 10, 1)
		set, err := NewSet(w.defs)
		require.NoError(t, err)
		for _, s := range w.subs {
			evs := w.eventsOf(s)
			st := set.NewSubscriber()
			for i := range evs {
				set.Apply(st, &evs[i])
				if i+1 < len(evs) && !evs[i+1].Time.After(evs[i].Time) {
					continue
				}
				at := evs[i].Time
				before := slices.Clone(set.Members(st, at, nil))
				next := set.Next(st, at)
				limit := at.Add(48 * time.Hour)
				if i+1 < len(evs) {
					limit = evs[i+1].Time.Add(-time.Millisecond)
				}
				if !next.IsZero() && next.Before(limit) {
					limit = next.Add(-time.Millisecond)
				}
				if !limit.After(at) {
					continue
				}
				probe := at.Add(time.Duration(w.rnd.Int64N(int64(limit.Sub(at)) + 1)))
				for _, u := range []time.Time{probe, limit} {
					require.Equal(t, before, set.Members(st, u, nil),
						"seed %d subscriber %s: membership changed at %s before the next timer %s (applied up to %s)", seed, s, u, next, at)
				}
			}
		}
	}
}

func explainText(r Reason, indent string) string {
	s := fmt.Sprintf("%s%t %s — %s\n", indent, r.Held, r.Rule, r.Detail)
	for _, c := range r.Children {
		s += explainText(c, indent+"  ")
	}
	return s
}

// TestSequenceLateCancel: an E2 arriving late (after later events of the same
// subscriber, within Lateness) still cancels the E1 it follows, and an E1
// decided long ago stays decided.
func TestSequenceLateCancel(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rule, err := Parse([]byte(`{"kind":"sequence","event":{"type":"custom","name":"add_to_cart"},"then_not":{"type":"conversion","name":"purchase"},"within":"1h","correlate":"cart_id"}`))
	require.NoError(t, err)
	set, err := NewSet([]Definition{{ID: "abandoned", Rule: rule}})
	require.NoError(t, err)
	ev := func(typ, name, cart string, at time.Time) *Event {
		return &Event{ID: at.String(), Type: typ, Name: name, Time: at, Props: map[string]string{"cart_id": cart}}
	}
	cases := []struct {
		name   string
		events []*Event // in arrival order
		at     time.Time
		member bool
	}{
		{"window passed, no purchase", []*Event{ev("custom", "add_to_cart", "c1", t0)}, t0.Add(time.Hour), true},
		{"window not passed yet", []*Event{ev("custom", "add_to_cart", "c1", t0)}, t0.Add(time.Hour - time.Millisecond), false},
		{"purchase of another cart", []*Event{ev("custom", "add_to_cart", "c1", t0), ev("conversion", "purchase", "c2", t0.Add(time.Minute))}, t0.Add(2 * time.Hour), true},
		{"late purchase within lateness cancels", []*Event{
			ev("custom", "add_to_cart", "c1", t0),
			ev("custom", "add_to_cart", "c2", t0.Add(110*time.Minute)), // the subscriber's clock moves on
			ev("conversion", "purchase", "c1", t0.Add(59*time.Minute)),
		}, t0.Add(2 * time.Hour), false},
		{"purchase exactly at the bound cancels", []*Event{ev("custom", "add_to_cart", "c1", t0), ev("conversion", "purchase", "c1", t0.Add(time.Hour))}, t0.Add(3 * time.Hour), false},
		{"purchase after the bound does not", []*Event{ev("custom", "add_to_cart", "c1", t0), ev("conversion", "purchase", "c1", t0.Add(time.Hour+time.Millisecond))}, t0.Add(3 * time.Hour), true},
		{"decided long ago stays", []*Event{
			ev("custom", "add_to_cart", "c1", t0),
			ev("page_view", "", "", t0.Add(5*time.Hour)),
			ev("conversion", "purchase", "c1", t0.Add(6*time.Hour)),
		}, t0.Add(7 * time.Hour), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := set.NewSubscriber()
			var all []Event
			for _, e := range c.events {
				set.Apply(st, e)
				all = append(all, *e)
			}
			require.Equal(t, c.member, set.Members(st, c.at, nil)[0])
			x, err := set.Explain("abandoned", all, c.at)
			require.NoError(t, err)
			require.Equal(t, c.member, x.Member, explainText(x.Rule, ""))
		})
	}
}

// TestTimezoneAttribute: timezone comes from the latest evaluated event
// carrying one (as country does), through FromSchema, in the incremental
// evaluator and in Explain alike.
func TestTimezoneAttribute(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rule, err := ParseText(`timezone = "Europe/Paris"`)
	require.NoError(t, err)
	set, err := NewSet([]Definition{{ID: "paris", Rule: rule}})
	require.NoError(t, err)
	ev := func(typ schemas.EventType, tz string, at time.Time) Event {
		return FromSchema(&schemas.Event{EventID: at.String(), Type: typ, Time: at, Timezone: tz})
	}
	cases := []struct {
		name   string
		events []Event
		member bool
	}{
		{"carried", []Event{ev(schemas.EventPageView, "Europe/Paris", t0)}, true},
		{"kept by an event without one", []Event{ev(schemas.EventPageView, "Europe/Paris", t0), ev(schemas.EventCustom, "", t0.Add(time.Minute))}, true},
		{"replaced by a later zone", []Event{ev(schemas.EventPageView, "Europe/Paris", t0), ev(schemas.EventSubscribed, "America/New_York", t0.Add(time.Minute))}, false},
		{"never sent", []Event{ev(schemas.EventPageView, "", t0)}, false},
		{"not from segment transitions", []Event{ev(schemas.EventPageView, "America/New_York", t0), ev(schemas.EventSegmentEntered, "Europe/Paris", t0.Add(time.Minute))}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := set.NewSubscriber()
			for i := range c.events {
				set.Apply(st, &c.events[i])
			}
			at := t0.Add(time.Hour)
			require.Equal(t, c.member, set.Members(st, at, nil)[0])
			x, err := set.Explain("paris", c.events, at)
			require.NoError(t, err)
			require.Equal(t, c.member, x.Member, explainText(x.Rule, ""))
		})
	}
}
