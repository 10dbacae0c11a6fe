package segments

import (
	"fmt"
	"slices"
	"time"
)

// Explanation says why a subscriber is or is not a member of a segment at
// an instant: the rule tree with, for each node, whether it held, why, and
// the events that made it so.
type Explanation struct {
	Segment   string    `json:"segment"`
	At        time.Time `json:"at"`
	Member    bool      `json:"member"`
	HasEvents bool      `json:"has_events"` // false: no event at or before At, so no segment holds
	Rule      Reason    `json:"rule"`
}

// Reason is one node of an Explanation.
type Reason struct {
	Kind     Kind       `json:"kind"`
	Rule     string     `json:"rule"` // the node in the text form
	Held     bool       `json:"held"`
	Detail   string     `json:"detail,omitempty"`
	Events   []EventRef `json:"events,omitempty"` // evidence, at most maxEvidence, latest first
	Children []Reason   `json:"children,omitempty"`
}

// EventRef names an event given as evidence.
type EventRef struct {
	ID   string    `json:"event_id"`
	Type string    `json:"type"`
	Name string    `json:"name,omitempty"`
	Time time.Time `json:"time"`
}

const maxEvidence = 10

// Explain evaluates segment id for one subscriber directly over their events
// (any order; events after at and not Evaluated are ignored), with the same
// meaning as the incremental evaluator and the SQL compiler, and says why.
func (s *Set) Explain(id string, events []Event, at time.Time) (Explanation, error) {
	i, ok := s.index[id]
	if !ok {
		return Explanation{}, fmt.Errorf("explain: %w: %s", ErrUnknownSegment, id)
	}
	x := &explainer{set: s, at: at.UnixMilli()}
	for k := range events {
		if Evaluated(events[k].Type) && events[k].Time.UnixMilli() <= x.at {
			x.events = append(x.events, &events[k])
		}
	}
	slices.SortStableFunc(x.events, func(a, b *Event) int { return a.Time.Compare(b.Time) })
	r := x.segment(i)
	return Explanation{Segment: id, At: at, Member: r.Held, HasEvents: len(x.events) > 0, Rule: r}, nil
}

type explainer struct {
	set    *Set
	at     int64
	events []*Event // evaluated, at or before at, ascending time
}

func (x *explainer) segment(i int) Reason {
	r := x.node(x.set.rules[i], x.set.roots[i])
	if len(x.events) == 0 && r.Held {
		r.Held = false
		r.Detail = "no event at or before this instant: only subscribers with events can be members"
	}
	return r
}

func (x *explainer) node(rule Rule, n *node) Reason {
	r := Reason{Kind: rule.Kind, Rule: Format(rule)}
	switch n.kind {
	case KindAnd, KindOr:
		r.Held = n.kind == KindAnd
		for i, k := range n.kids {
			c := x.node(rule.Children[i], k)
			r.Children = append(r.Children, c)
			if n.kind == KindAnd {
				r.Held = r.Held && c.Held
			} else {
				r.Held = r.Held || c.Held
			}
		}
	case KindNot:
		c := x.node(*rule.Child, n.kids[0])
		r.Children, r.Held = []Reason{c}, !c.Held
	case KindSegment:
		c := x.segment(n.seg)
		r.Children, r.Held = []Reason{c}, c.Held
		r.Detail = fmt.Sprintf("member of segment %s: %t", rule.Segment, c.Held)
	case KindAttribute:
		x.attribute(&r, n)
	case KindInactive:
		x.inactive(&r, n)
	case KindEvent:
		x.count(&r, n)
	case KindFirst, KindLast:
		x.firstLast(&r, n)
	case KindSequence:
		x.sequence(&r, n)
	}
	return r
}

func ref(e *Event) EventRef {
	return EventRef{ID: e.ID, Type: e.Type, Name: e.Name, Time: e.Time.UTC()}
}

func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// latestWith returns the latest event (by time, then id) for which value
// gives a present value.
func (x *explainer) latestWith(value func(*Event) (string, bool)) (*Event, string) {
	var best *Event
	var v string
	for _, e := range x.events {
		s, ok := value(e)
		if ok && (best == nil || later(e.Time.UnixMilli(), e.ID, best.Time.UnixMilli(), best.ID)) {
			best, v = e, s
		}
	}
	return best, v
}

func (x *explainer) attribute(r *Reason, n *node) {
	var value func(*Event) (string, bool)
	switch f := n.attr.field; {
	case n.attr.device >= 0:
		value = func(e *Event) (string, bool) { v := e.device(n.attr.device); return v, v != "" }
	case n.attr.custom >= 0:
		key := x.set.attrKeys[n.attr.custom]
		value = func(e *Event) (string, bool) {
			v, ok := e.Props[key]
			return v, ok && e.Type == "identify"
		}
	case f == "status":
		value = func(e *Event) (string, bool) { v := statusOf(e.Type); return v, v != "" }
	default: // first_seen, last_seen
		x.seen(r, n)
		return
	}
	e, v := x.latestWith(value)
	if e == nil {
		r.Detail = n.attr.field + " is not known (no event carries it)"
		return
	}
	r.Held = n.test.holds(v)
	r.Detail = fmt.Sprintf("%s is %q (latest event carrying it)", n.attr.field, v)
	r.Events = []EventRef{ref(e)}
}

func (x *explainer) seen(r *Reason, n *node) {
	var pick *Event
	for _, e := range x.events {
		if !isActivity(e.Type) {
			continue
		}
		if pick == nil || n.attr.field == "last_seen" && e.Time.UnixMilli() >= pick.Time.UnixMilli() {
			pick = e
		}
	}
	if pick == nil {
		r.Detail = "no activity event: " + n.attr.field + " is not known"
		return
	}
	t := pick.Time.UnixMilli()
	r.Held = n.test.holdsNum(float64(t))
	r.Detail = fmt.Sprintf("%s is %s", n.attr.field, stamp(t))
	r.Events = []EventRef{ref(pick)}
}

func (x *explainer) inactive(r *Reason, n *node) {
	var last *Event
	for _, e := range x.events {
		if isActivity(e.Type) {
			last = e
		}
	}
	start := x.at - n.window
	switch {
	case last == nil:
		r.Held, r.Detail = true, "no activity event at all"
	case last.Time.UnixMilli() <= start:
		r.Held, r.Detail = true, "last activity at "+stamp(last.Time.UnixMilli())+", before the window"
		r.Events = []EventRef{ref(last)}
	default:
		r.Detail = "active at " + stamp(last.Time.UnixMilli()) + ", inside the window"
		r.Events = []EventRef{ref(last)}
	}
}

// matching returns the events the leaf's match selects, ascending.
func (x *explainer) matching(m *matcher, after int64) []*Event {
	var out []*Event
	for _, e := range x.events {
		if e.Time.UnixMilli() > after && m.matches(e) {
			out = append(out, e)
		}
	}
	return out
}

func evidence(es []*Event) []EventRef {
	var out []EventRef
	for i := len(es) - 1; i >= 0 && len(out) < maxEvidence; i-- {
		out = append(out, ref(es[i]))
	}
	return out
}

func (x *explainer) count(r *Reason, n *node) {
	in := x.matching(&x.set.leaves[n.leaf].match, x.at-n.window)
	r.Held = holdsCount(n.count, len(in))
	r.Detail = fmt.Sprintf("%d matching events in the last %s; the rule needs count %s %d",
		len(in), Window(time.Duration(n.window)*time.Millisecond), n.count.Op, n.count.N)
	r.Events = evidence(in)
}

func (x *explainer) firstLast(r *Reason, n *node) {
	all := x.matching(&x.set.leaves[n.leaf].match, -1<<62)
	if len(all) == 0 {
		r.Detail = "no matching event"
		return
	}
	e := all[0]
	if n.kind == KindLast {
		e = all[len(all)-1]
	}
	t := e.Time.UnixMilli()
	r.Held = timeHolds(n, t, x.at)
	r.Detail = fmt.Sprintf("the %s matching event is at %s", n.kind, stamp(t))
	r.Events = []EventRef{ref(e)}
}

func (x *explainer) sequence(r *Reason, n *node) {
	l := &x.set.leaves[n.leaf]
	firsts := x.matching(&l.match, -1<<62)
	thens := x.matching(&l.thenNot, -1<<62)
	pending := 0
	for _, a := range firsts {
		key, ok := a.Props[l.correlate]
		if l.correlate != "" && !ok {
			continue
		}
		at := a.Time.UnixMilli()
		if at+n.window > x.at {
			pending++
			continue
		}
		var cancel *Event
		for _, b := range thens {
			bt := b.Time.UnixMilli()
			if bt > at && bt <= at+n.window && (l.correlate == "" || b.Props[l.correlate] == key) {
				if _, has := b.Props[l.correlate]; l.correlate == "" || has {
					cancel = b
					break
				}
			}
		}
		if cancel == nil {
			r.Held = true
			r.Detail = fmt.Sprintf("%s at %s was not followed by %s within %s", a.Type, stamp(at), l.thenNot.typ,
				Window(time.Duration(n.window)*time.Millisecond))
			r.Events = []EventRef{ref(a)}
			return
		}
		r.Events = append(r.Events, ref(a), ref(cancel))
	}
	r.Detail = fmt.Sprintf("no %s left without %s within the window (%d still inside their window)",
		l.match.typ, l.thenNot.typ, pending)
	if len(r.Events) > maxEvidence {
		r.Events = r.Events[len(r.Events)-maxEvidence:]
	}
}
