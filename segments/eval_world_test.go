package segments

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// world is a random site for the evaluator property tests: subscribers,
// their events over a few days, segment definitions over a small vocabulary
// (so conditions often hold and often fail), and instants to check, many
// of them exactly on a window bound.
type world struct {
	rnd      *rand.Rand
	start    time.Time
	subs     []string
	events   []Event // ascending time
	arrival  []int   // indexes of events in arrival order (disordered by up to 30 minutes)
	defs     []Definition
	instants []time.Time // ascending
}

var (
	worldWindows = []Window{Window(5 * time.Minute), Window(time.Hour), Window(24 * time.Hour)}
	worldURLs    = []string{"https://shop.test/", "https://shop.test/pricing", "https://shop.test/pricing/pro", "https://blog.test/a"}
)

func newWorld(seed uint64, nSubs, nEvents, nDefs, nInstants int) *world {
	w := &world{rnd: rand.New(rand.NewPCG(seed, seed*7+1)), start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	for i := range nSubs {
		w.subs = append(w.subs, fmt.Sprintf("s%03d", i))
	}
	for i := range nEvents {
		w.events = append(w.events, w.event(i))
	}
	slices.SortStableFunc(w.events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	w.arrive()
	for i := range nDefs {
		w.defs = append(w.defs, Definition{ID: fmt.Sprintf("seg%02d", i), Rule: w.rule(i, 1)})
	}
	w.pickInstants(nInstants)
	return w
}

func (w *world) pick(options ...string) string { return options[w.rnd.IntN(len(options))] }

// eventTime spreads events over 3 days, on whole minutes now and then (so
// ties and exact window bounds happen), else with milliseconds.
func (w *world) eventTime() time.Time {
	d := time.Duration(w.rnd.Int64N(int64(72 * time.Hour)))
	if w.rnd.IntN(3) == 0 {
		d = d.Truncate(time.Minute)
	}
	return w.start.Add(d.Truncate(time.Millisecond))
}

func (w *world) event(i int) Event {
	e := Event{
		ID:   fmt.Sprintf("0190%04x-0000-7000-8000-%012x", w.rnd.IntN(1<<16), i),
		Time: w.eventTime(), Props: map[string]string{},
		Browser: w.pick("Chrome", "Firefox", ""), OS: w.pick("Windows", "Android", ""),
		DeviceType: w.pick("desktop", "mobile", ""), Language: w.pick("fr", "en-US", ""),
		Country: w.pick("FR", "DE", "US", ""), Region: w.pick("IDF", ""), City: w.pick("Paris", "Lyon", ""),
		Timezone: w.pick("Europe/Paris", "America/New_York", "", ""),
	}
	sub := w.subs[w.rnd.IntN(len(w.subs))]
	e.Props["_sub"] = sub // removed before use; carries the subscriber through the shuffle
	cart := w.pick("c1", "c2", "c3")
	switch w.rnd.IntN(10) {
	case 0, 1:
		e.Type, e.URL = "page_view", w.pick(worldURLs...)
	case 2, 3:
		e.Type, e.Name = "custom", "add_to_cart"
		e.Props["cart_id"], e.Props["price"] = cart, w.pick("10", "55", "99.5", "abc")
	case 4:
		e.Type, e.Name, e.Revenue = "conversion", "purchase", float64(w.rnd.IntN(4)*25)
		if w.rnd.IntN(4) > 0 {
			e.Props["cart_id"] = cart
		}
	case 5:
		e.Type = "identify"
		e.Props["plan"] = w.pick("free", "pro", "10")
	case 6:
		e.Type = w.pick("subscribed", "unsubscribed", "subscription_expired")
	case 7:
		e.Type = w.pick("push_sent", "push_clicked")
	case 8:
		e.Type, e.Props["segment"] = w.pick("segment_entered", "segment_exited"), "x" // never evaluated
	default:
		e.Type, e.Name = "custom", "signup"
	}
	return e
}

// sub returns the subscriber of an event made by event.
func sub(e *Event) string { return e.Props["_sub"] }

// arrive orders the events as they reach the evaluator: by time plus up to
// 30 minutes of random delay, less than Lateness.
func (w *world) arrive() {
	delay := make([]time.Time, len(w.events))
	for i := range w.events {
		w.arrival = append(w.arrival, i)
		delay[i] = w.events[i].Time.Add(time.Duration(w.rnd.Int64N(int64(30 * time.Minute))))
	}
	slices.SortStableFunc(w.arrival, func(a, b int) int { return delay[a].Compare(delay[b]) })
}

func (w *world) window() Window { return worldWindows[w.rnd.IntN(len(worldWindows))] }

func (w *world) match() *Match {
	switch w.rnd.IntN(6) {
	case 0:
		m := &Match{Type: "page_view"}
		if w.rnd.IntN(2) == 0 {
			m.Where = []Filter{{Field: "url", Op: Op(w.pick("contains", "starts_with", "eq")), Value: w.pick("/pricing", "https://shop.test/pricing", "blog")}}
		}
		return m
	case 1, 2:
		m := &Match{Type: "custom", Name: "add_to_cart"}
		switch w.rnd.IntN(3) {
		case 0:
			m.Where = []Filter{{Field: "props.price", Op: Op(w.pick("gt", "lte", "gte")), Value: float64(w.rnd.IntN(3) * 50)}}
		case 1:
			m.Where = []Filter{{Field: "props.cart_id", Op: OpIn, Value: []any{"c1", "c3"}}}
		}
		return m
	case 3:
		m := &Match{Type: "conversion", Name: "purchase"}
		if w.rnd.IntN(2) == 0 {
			m.Where = []Filter{{Field: "revenue", Op: Op(w.pick("gt", "gte", "eq")), Value: float64(w.rnd.IntN(3) * 25)}}
		}
		return m
	case 4:
		return &Match{Type: w.pick("push_sent", "push_clicked", "subscribed")}
	}
	return &Match{Type: "custom", Name: "signup"}
}

func (w *world) attribute() Rule {
	r := Rule{Kind: KindAttribute}
	switch w.rnd.IntN(10) {
	case 0:
		r.Field, r.Op, r.Value = "country", Op(w.pick("eq", "neq")), w.pick("FR", "DE")
	case 1:
		r.Field, r.Op, r.Value = w.pick("browser", "os", "device_type", "language", "region", "city", "timezone"), OpExists, nil
	case 2:
		r.Field, r.Op, r.Value = "country", OpIn, []any{"FR", "US"}
	case 3:
		r.Field, r.Op, r.Value = "status", OpEq, w.pick("subscribed", "unsubscribed", "expired")
	case 4:
		r.Field, r.Op, r.Value = "attr.plan", Op(w.pick("eq", "neq", "exists", "gt")), w.pick("pro", "free")
		switch r.Op {
		case OpExists:
			r.Value = nil
		case OpGt:
			r.Value = float64(5)
		}
	case 5:
		r.Field, r.Op = w.pick("first_seen", "last_seen"), Op(w.pick("gt", "lt", "gte", "lte", "eq"))
		r.Value = w.eventTime().Format(time.RFC3339)
	case 6:
		r.Field, r.Op, r.Value = "language", Op(w.pick("starts_with", "regex", "contains")), w.pick("en", "^f", "US")
	case 7, 8:
		r.Field, r.Op = "timezone", Op(w.pick("eq", "neq", "in", "starts_with"))
		switch r.Op {
		case OpIn:
			r.Value = []any{"Europe/Paris", "Asia/Tokyo"}
		case OpStartsWith:
			r.Value = "America/"
		default:
			r.Value = w.pick("Europe/Paris", "America/New_York")
		}
	default:
		r.Field, r.Op, r.Value = "city", OpNeq, "Paris"
	}
	return r
}

func (w *world) leaf(i int) Rule {
	switch w.rnd.IntN(8) {
	case 0, 1:
		return w.attribute()
	case 2, 3:
		r := Rule{Kind: KindEvent, Event: w.match(), Within: w.window()}
		if w.rnd.IntN(2) == 0 {
			r.Count = &Count{Op: Op(w.pick("eq", "neq", "gt", "gte", "lt", "lte")), N: w.rnd.IntN(4)}
		}
		return r
	case 4:
		r := Rule{Kind: Kind(w.pick("first", "last")), Event: w.match(), When: When(w.pick("before", "after", "within"))}
		if r.When == WhenWithin {
			r.Within = w.window()
		} else {
			r.At = w.eventTime().Format(time.RFC3339)
		}
		return r
	case 5:
		r := Rule{
			Kind: KindSequence, Event: &Match{Type: "custom", Name: "add_to_cart"},
			ThenNot: &Match{Type: "conversion", Name: "purchase"}, Within: w.window(),
		}
		if w.rnd.IntN(2) == 0 {
			r.Correlate = "cart_id"
		}
		return r
	case 6:
		return Rule{Kind: KindInactive, Within: w.window()}
	}
	if i > 0 {
		return Rule{Kind: KindSegment, Segment: fmt.Sprintf("seg%02d", w.rnd.IntN(i))}
	}
	return w.attribute()
}

// rule builds definition i; it may refer to definitions before it only.
func (w *world) rule(i, depth int) Rule {
	if depth < 4 && w.rnd.IntN(2) == 0 {
		switch w.rnd.IntN(4) {
		case 0:
			c := w.rule(i, depth+1)
			return Rule{Kind: KindNot, Child: &c}
		default:
			r := Rule{Kind: Kind(w.pick("and", "or"))}
			for range 2 + w.rnd.IntN(2) {
				r.Children = append(r.Children, w.rule(i, depth+1))
			}
			return r
		}
	}
	return w.leaf(i)
}

// pickInstants chooses instants inside and after the span; three in four
// lie exactly one window after an event (on a window bound).
func (w *world) pickInstants(n int) {
	for range n {
		if w.rnd.IntN(4) > 0 && len(w.events) > 0 {
			e := w.events[w.rnd.IntN(len(w.events))]
			w.instants = append(w.instants, e.Time.Add(time.Duration(w.window())))
		} else {
			w.instants = append(w.instants, w.start.Add(time.Duration(w.rnd.Int64N(int64(80*time.Hour)))).Truncate(time.Millisecond))
		}
	}
	slices.SortFunc(w.instants, time.Time.Compare)
}

// incremental runs the incremental evaluator over the world and returns
// membership per instant: result[instant][segment] = sorted member ids.
// Events reach it in arrival order; at each instant it first applies every
// event at or before that instant not applied yet.
func (w *world) incremental(set *Set) [][][]string {
	states := map[string]*Subscriber{}
	applied := make([]bool, len(w.events))
	var out [][][]string
	var members []bool
	for _, at := range w.instants {
		for _, i := range w.arrival {
			e := &w.events[i]
			if applied[i] || e.Time.After(at) {
				continue
			}
			applied[i] = true
			st := states[sub(e)]
			if st == nil {
				st = set.NewSubscriber()
				states[sub(e)] = st
			}
			set.Apply(st, e)
		}
		res := make([][]string, len(set.Segments()))
		for _, s := range w.subs {
			st := states[s]
			if st == nil {
				continue
			}
			members = set.Members(st, at, members)
			for k, m := range members {
				if m {
					res[k] = append(res[k], s)
				}
			}
			set.Next(st, at) // prunes; later instants must still be right
		}
		out = append(out, res)
	}
	return out
}

// events of one subscriber, for Explain.
func (w *world) eventsOf(s string) []Event {
	var out []Event
	for _, e := range w.events {
		if sub(&e) == s {
			out = append(out, e)
		}
	}
	return out
}
