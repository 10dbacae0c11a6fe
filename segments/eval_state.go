package segments

import (
	"math"
	"slices"
	"unique"
)

// Lateness is how far behind a subscriber's latestVal event another of their
// events may arrive and still be applied exactly to a sequence condition:
// pending "E1 then not E2" state is kept this long after it is decided.
// Every other condition is exact for any arrival order.
const Lateness int64 = 60 * 60 * 1000 // 1 h in ms

// Caps that bound a sequence condition's state per subscriber; beyond them
// the oldest entries are dropped (see DESIGN.md).
const (
	maxSeqKeys  = 16 // correlation values tracked at once
	maxSeqTimes = 64 // E1 or E2 times kept per correlation value
)

// Subscriber is the evaluator state of one subscriber for one Set: bounded,
// whatever the number of events. It is not safe for concurrent use; the
// runtime gives each partition a single owner.
type Subscriber struct {
	seen      bool  // has an evaluated event: in the universe
	maxTime   int64 // latestVal evaluated event time, ms
	active    bool  // has an activity event
	firstSeen int64
	lastSeen  int64
	status    latestVal
	device    [len(deviceFields)]latestVal
	custom    []latestVal // by Set.attrKeys
	leaves    []leafState
}

// latestVal is the value of the latestVal event carrying an attribute.
type latestVal struct {
	value unique.Handle[string]
	t     int64
	id    string
	ok    bool
}

func (l *latestVal) offer(v string, t int64, id string) {
	if !l.ok || later(t, id, l.t, l.id) {
		*l = latestVal{value: unique.Make(v), t: t, id: id, ok: true}
	}
}

// leafState is the state of one stateful condition, kept only once the
// subscriber had an event it looks at.
type leafState struct {
	leaf  int
	times []int64   // count: ascending, at most keep; first/last: one time
	seq   *seqState // sequence
}

type seqState struct {
	satisfied bool // some E1 was decided satisfied and pruned
	keys      []seqKey
}

type seqKey struct {
	key    string
	e1, e2 []int64 // ascending
}

// NewSubscriber returns the empty state of a subscriber never seen.
func (s *Set) NewSubscriber() *Subscriber {
	return &Subscriber{}
}

// Apply adds one event to the subscriber's state. Events may come in any
// order (see Lateness); the caller evaluates at instants at or after every
// applied event's time. Events that are not Evaluated are ignored.
func (s *Set) Apply(sub *Subscriber, e *Event) {
	if !Evaluated(e.Type) {
		return
	}
	t := e.Time.UnixMilli()
	if !sub.seen || t > sub.maxTime {
		sub.maxTime = t
	}
	sub.seen = true
	if isActivity(e.Type) {
		if !sub.active || t < sub.firstSeen {
			sub.firstSeen = t
		}
		if !sub.active || t > sub.lastSeen {
			sub.lastSeen = t
		}
		sub.active = true
	}
	for i := range sub.device {
		if v := e.device(i); v != "" {
			sub.device[i].offer(v, t, e.ID)
		}
	}
	if st := statusOf(e.Type); st != "" {
		sub.status.offer(st, t, e.ID)
	}
	if e.Type == "identify" && len(s.attrKeys) > 0 {
		if sub.custom == nil {
			sub.custom = make([]latestVal, len(s.attrKeys))
		}
		for i, k := range s.attrKeys {
			if v, ok := e.Props[k]; ok {
				sub.custom[i].offer(v, t, e.ID)
			}
		}
	}
	for _, li := range s.byType[e.Type] {
		s.applyLeaf(sub, li, e, t)
	}
}

func (s *Set) applyLeaf(sub *Subscriber, li int, e *Event, t int64) {
	l := &s.leaves[li]
	if l.kind == leafSequence {
		first, then := l.match.matches(e), l.thenNot.matches(e)
		if !first && !then {
			return
		}
		st := sub.state(li)
		if st.seq == nil {
			st.seq = &seqState{}
		}
		st.seq.add(l, e, t, first, then)
		st.seq.prune(l.window, sub.maxTime)
		return
	}
	if !l.match.matches(e) {
		return
	}
	st := sub.state(li)
	switch l.kind {
	case leafFirst:
		if len(st.times) == 0 {
			st.times = []int64{t}
		} else if t < st.times[0] {
			st.times[0] = t
		}
	case leafLast:
		if len(st.times) == 0 {
			st.times = []int64{t}
		} else if t > st.times[0] {
			st.times[0] = t
		}
	case leafCount:
		st.times = insertSorted(st.times, t)
		if len(st.times) > l.keep {
			st.times = slices.Delete(st.times, 0, len(st.times)-l.keep)
		}
		st.times = dropUpTo(st.times, sub.maxTime-l.window)
	}
}

// state returns the subscriber's state of leaf li, adding it when missing.
func (sub *Subscriber) state(li int) *leafState {
	i, found := slices.BinarySearchFunc(sub.leaves, li, func(s leafState, li int) int { return s.leaf - li })
	if !found {
		sub.leaves = slices.Insert(sub.leaves, i, leafState{leaf: li})
	}
	return &sub.leaves[i]
}

// lookup returns the subscriber's state of leaf li, or nil.
func (sub *Subscriber) lookup(li int) *leafState {
	i, found := slices.BinarySearchFunc(sub.leaves, li, func(s leafState, li int) int { return s.leaf - li })
	if !found {
		return nil
	}
	return &sub.leaves[i]
}

func (q *seqState) add(l *leaf, e *Event, t int64, first, then bool) {
	key := ""
	if l.correlate != "" {
		v, ok := e.Props[l.correlate]
		if !ok {
			return // neither starts nor cancels a correlated sequence
		}
		key = v
	}
	k := q.key(key)
	if first {
		k.e1 = capTimes(insertSorted(k.e1, t))
	}
	if then {
		k.e2 = capTimes(insertSorted(k.e2, t))
	}
}

// key returns the entry of a correlation value, adding it (and dropping the
// entry with the oldest activity beyond maxSeqKeys).
func (q *seqState) key(v string) *seqKey {
	for i := range q.keys {
		if q.keys[i].key == v {
			return &q.keys[i]
		}
	}
	if len(q.keys) >= maxSeqKeys {
		q.keys = slices.Delete(q.keys, 0, 1)
	}
	q.keys = append(q.keys, seqKey{key: v})
	return &q.keys[len(q.keys)-1]
}

// prune decides the E1s no late event can change any more (a + W before the
// subscriber's latestVal time minus Lateness): satisfied ones set satisfied,
// and drops E2s that can no longer cancel a kept or future E1.
func (q *seqState) prune(w, maxTime int64) {
	horizon := maxTime - Lateness
	kept := q.keys[:0]
	for _, k := range q.keys {
		e1 := k.e1[:0]
		for _, a := range k.e1 {
			if a+w >= horizon {
				e1 = append(e1, a)
			} else if !cancelled(a, w, k.e2) {
				q.satisfied = true
			}
		}
		k.e1 = e1
		k.e2 = dropUpTo(k.e2, horizon-w)
		if len(k.e1) > 0 || len(k.e2) > 0 {
			kept = append(kept, k)
		}
	}
	q.keys = kept
}

// holds reports whether some E1 at a, a + w <= at, has no E2 in (a, a+w].
func (q *seqState) holds(w, at int64) bool {
	if q.satisfied {
		return true
	}
	for _, k := range q.keys {
		for _, a := range k.e1 {
			if a+w > at {
				break
			}
			if !cancelled(a, w, k.e2) {
				return true
			}
		}
	}
	return false
}

// cancelled reports whether some b of the ascending e2 lies in (a, a+w].
func cancelled(a, w int64, e2 []int64) bool {
	i, _ := slices.BinarySearch(e2, a+1)
	return i < len(e2) && e2[i] <= a+w
}

func insertSorted(ts []int64, t int64) []int64 {
	i, _ := slices.BinarySearch(ts, t)
	return slices.Insert(ts, i, t)
}

// dropUpTo removes the times <= limit from the ascending ts.
func dropUpTo(ts []int64, limit int64) []int64 {
	i, _ := slices.BinarySearch(ts, limit+1)
	if i == 0 {
		return ts
	}
	return slices.Delete(ts, 0, i)
}

func capTimes(ts []int64) []int64 {
	if len(ts) > maxSeqTimes {
		return slices.Delete(ts, 0, len(ts)-maxSeqTimes)
	}
	return ts
}

// never is the instant of "no timer".
const never = math.MaxInt64
