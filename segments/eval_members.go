package segments

import "time"

// Members evaluates every segment of the set for the subscriber at instant
// at and writes membership into out (one entry per Segments, in that order),
// growing it when short. at must not precede any applied event's time.
func (s *Set) Members(sub *Subscriber, at time.Time, out []bool) []bool {
	out = append(out[:0], make([]bool, len(s.ids))...)
	if !sub.seen {
		return out
	}
	ms := at.UnixMilli()
	for i, root := range s.roots {
		out[i] = s.eval(sub, root, ms, out)
	}
	return out
}

func (s *Set) eval(sub *Subscriber, n *node, at int64, members []bool) bool {
	switch n.kind {
	case KindAnd:
		for _, k := range n.kids {
			if !s.eval(sub, k, at, members) {
				return false
			}
		}
		return true
	case KindOr:
		for _, k := range n.kids {
			if s.eval(sub, k, at, members) {
				return true
			}
		}
		return false
	case KindNot:
		return !s.eval(sub, n.kids[0], at, members)
	case KindSegment:
		return members[n.seg]
	case KindInactive:
		return !sub.active || sub.lastSeen <= at-n.window
	case KindAttribute:
		return s.attribute(sub, n)
	case KindEvent:
		return holdsCount(n.count, countSince(sub.lookup(n.leaf), at-n.window))
	case KindFirst, KindLast:
		st := sub.lookup(n.leaf)
		return st != nil && timeHolds(n, st.times[0], at)
	case KindSequence:
		st := sub.lookup(n.leaf)
		return st != nil && st.seq.holds(n.window, at)
	}
	return false
}

func (s *Set) attribute(sub *Subscriber, n *node) bool {
	var l *latestVal
	switch {
	case n.attr.device >= 0:
		l = &sub.device[n.attr.device]
	case n.attr.custom >= 0:
		if sub.custom == nil {
			return false
		}
		l = &sub.custom[n.attr.custom]
	case n.attr.field == "status":
		l = &sub.status
	case n.attr.field == "first_seen":
		return sub.active && n.test.holdsNum(float64(sub.firstSeen))
	case n.attr.field == "last_seen":
		return sub.active && n.test.holdsNum(float64(sub.lastSeen))
	default:
		return false
	}
	return l.ok && n.test.holds(l.value.Value())
}

// countSince counts the kept times after start (the times kept are enough
// to decide any count comparison up to N).
func countSince(st *leafState, start int64) int {
	if st == nil {
		return 0
	}
	n := 0
	for i := len(st.times) - 1; i >= 0 && st.times[i] > start; i-- {
		n++
	}
	return n
}

func holdsCount(c Count, n int) bool {
	switch {
	case n < c.N:
		return cmpOp(c.Op, -1)
	case n > c.N:
		return cmpOp(c.Op, 1)
	}
	return cmpOp(c.Op, 0)
}

// timeHolds decides a first/last condition on the earliest/latestVal matching
// time t.
func timeHolds(n *node, t, at int64) bool {
	switch n.when {
	case WhenBefore:
		return t < n.at
	case WhenAfter:
		return t > n.at
	}
	return t > at-n.window
}

// Next returns the earliest instant after at when the subscriber's
// membership may change with no new event (a time window ends, a sequence
// window passes), or the zero time when none will. It also drops state no
// instant after at can need.
func (s *Set) Next(sub *Subscriber, at time.Time) time.Time {
	ms := at.UnixMilli()
	next := int64(never)
	soonest := func(t int64) {
		if t > ms && t < next {
			next = t
		}
	}
	if sub.active {
		for _, w := range s.inactive {
			soonest(sub.lastSeen + w)
		}
	}
	for i := range sub.leaves {
		st := &sub.leaves[i]
		l := &s.leaves[st.leaf]
		switch l.kind {
		case leafCount:
			st.times = dropUpTo(st.times, ms-l.window)
			if len(st.times) > 0 {
				soonest(st.times[0] + l.window)
			}
		case leafFirst, leafLast:
			for _, w := range l.windows {
				soonest(st.times[0] + w)
			}
		case leafSequence:
			for _, k := range st.seq.keys {
				for _, a := range k.e1 {
					soonest(a + l.window)
				}
			}
		}
	}
	if next == never {
		return time.Time{}
	}
	return time.UnixMilli(next).UTC()
}
