package segments

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Definition is a saved segment: its id and rule.
type Definition struct {
	ID   string
	Rule Rule
}

// Set is the compiled segments of one site, ready for the incremental
// evaluator and for Explain. Conditions that several segments share keep
// one state per subscriber. A Set is immutable and safe for concurrent use;
// Subscriber states are not.
type Set struct {
	ids      []string       // segment ids in evaluation order: referenced segments first
	index    map[string]int // id -> position in ids
	rules    []Rule
	roots    []*node
	leaves   []leaf           // the stateful conditions, shared between segments
	byType   map[string][]int // event type -> leaves that look at it
	attrKeys []string         // custom attribute names rules read (attr.<name>)
	inactive []int64          // distinct windows of inactive conditions, ms
}

// leafKind is what a stateful condition keeps per subscriber.
type leafKind uint8

const (
	leafCount    leafKind = iota // the K most recent matching times
	leafFirst                    // the earliest matching time
	leafLast                     // the latest matching time
	leafSequence                 // pending E1 and recent E2 times per correlation key
)

// leaf is one stateful condition.
type leaf struct {
	kind      leafKind
	match     matcher
	thenNot   matcher // sequence
	correlate string  // sequence
	window    int64   // ms: count, sequence (pruning and timers)
	keep      int     // count: how many recent times to keep (N+1)
	windows   []int64 // first/last: the windows of the "within" nodes using it (timers)
}

// node is one compiled rule node.
type node struct {
	kind   Kind
	kids   []*node
	leaf   int   // event, first, last, sequence: index into Set.leaves
	window int64 // ms: event, first/last within, inactive
	count  Count // event
	when   When  // first, last
	at     int64 // first, last before/after: Unix ms
	attr   attrRef
	test   test // attribute
	seg    int  // segment: index into Set.ids
}

// attrRef says where an attribute comes from.
type attrRef struct {
	device int // index into deviceFields, or -1
	custom int // index into Set.attrKeys, or -1
	field  string
}

// ErrDefinitions wraps every problem NewSet finds in a set of definitions.
var ErrDefinitions = errors.New("invalid segment definitions")

// NewSet compiles the definitions of one site. Every rule must be valid;
// references must name segments of the set (ErrUnknownSegment) and must not
// form a cycle (ErrSegmentCycle).
func NewSet(defs []Definition) (*Set, error) {
	s := &Set{index: map[string]int{}, byType: map[string][]int{}}
	byID := map[string]Rule{}
	for _, d := range defs {
		if _, dup := byID[d.ID]; dup {
			return nil, fmt.Errorf("%w: segment %s defined twice", ErrDefinitions, d.ID)
		}
		if problems := Validate(d.Rule); len(problems) > 0 {
			return nil, fmt.Errorf("%w: segment %s: %w", ErrDefinitions, d.ID, &Error{Problems: problems})
		}
		byID[d.ID] = d.Rule
	}
	order, err := evalOrder(defs, byID)
	if err != nil {
		return nil, err
	}
	for i, id := range order {
		s.index[id] = i
	}
	c := &setCompiler{set: s, leafIndex: map[string]int{}, attrIndex: map[string]int{}, inactive: map[int64]bool{}}
	for _, id := range order {
		root, err := c.node(byID[id])
		if err != nil {
			return nil, fmt.Errorf("%w: segment %s: %w", ErrDefinitions, id, err)
		}
		s.ids = append(s.ids, id)
		s.rules = append(s.rules, byID[id])
		s.roots = append(s.roots, root)
	}
	for w := range c.inactive {
		s.inactive = append(s.inactive, w)
	}
	sort.Slice(s.inactive, func(i, j int) bool { return s.inactive[i] < s.inactive[j] })
	return s, nil
}

// Segments returns the segment ids in evaluation order; Members reports in
// this order.
func (s *Set) Segments() []string { return s.ids }

// Index returns the position of segment id in Segments.
func (s *Set) Index(id string) (int, bool) {
	i, ok := s.index[id]
	return i, ok
}

// evalOrder sorts the ids so that every referenced segment comes before the
// segments referring to it (depth-first), detecting unknown ids and cycles.
func evalOrder(defs []Definition, byID map[string]Rule) ([]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	mark := map[string]int{}
	var order []string
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch mark[id] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("%w: %w: %s", ErrDefinitions, ErrSegmentCycle, strings.Join(append(path, id), " -> "))
		}
		r, ok := byID[id]
		if !ok {
			return fmt.Errorf("%w: %w: %s (referenced by %s)", ErrDefinitions, ErrUnknownSegment, id, path[len(path)-1])
		}
		mark[id] = visiting
		for _, ref := range references(r) {
			if err := visit(ref, append(path, id)); err != nil {
				return err
			}
		}
		mark[id] = done
		order = append(order, id)
		return nil
	}
	for _, d := range defs {
		if err := visit(d.ID, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// references lists the segment ids a rule refers to.
func references(r Rule) []string {
	var out []string
	var walk func(Rule)
	walk = func(r Rule) {
		switch r.Kind {
		case KindSegment:
			out = append(out, r.Segment)
		case KindNot:
			walk(*r.Child)
		case KindAnd, KindOr:
			for _, c := range r.Children {
				walk(c)
			}
		}
	}
	walk(r)
	return out
}

type setCompiler struct {
	set       *Set
	leafIndex map[string]int // canonical key -> leaf
	attrIndex map[string]int
	inactive  map[int64]bool
}

func (c *setCompiler) node(r Rule) (*node, error) {
	n := &node{kind: r.Kind, leaf: -1, window: time.Duration(r.Within).Milliseconds()}
	switch r.Kind {
	case KindAnd, KindOr:
		for _, ch := range r.Children {
			k, err := c.node(ch)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
	case KindNot:
		k, err := c.node(*r.Child)
		if err != nil {
			return nil, err
		}
		n.kids = []*node{k}
	case KindAttribute:
		return n, c.attribute(n, r)
	case KindInactive:
		c.inactive[n.window] = true
	case KindSegment:
		n.seg = c.set.index[r.Segment]
	case KindEvent:
		n.count = Count{Op: OpGte, N: 1}
		if r.Count != nil {
			n.count = *r.Count
		}
		return n, c.leaf(n, leaf{kind: leafCount, window: n.window, keep: n.count.N + 1}, r)
	case KindFirst, KindLast:
		n.when = r.When
		if r.When != WhenWithin {
			t, err := time.Parse(time.RFC3339Nano, r.At)
			if err != nil {
				return nil, fmt.Errorf("%s at: %w", r.Kind, err)
			}
			n.at = t.UnixMilli()
		}
		kind := leafFirst
		if r.Kind == KindLast {
			kind = leafLast
		}
		if err := c.leaf(n, leaf{kind: kind}, r); err != nil {
			return nil, err
		}
		if r.When == WhenWithin {
			l := &c.set.leaves[n.leaf]
			l.windows = append(l.windows, n.window)
		}
		return n, nil
	case KindSequence:
		return n, c.leaf(n, leaf{kind: leafSequence, window: n.window, correlate: r.Correlate}, r)
	}
	return n, nil
}

func (c *setCompiler) attribute(n *node, r Rule) error {
	n.attr = attrRef{device: -1, custom: -1, field: r.Field}
	for i, f := range deviceFields {
		if f == r.Field {
			n.attr.device = i
		}
	}
	if name, ok := strings.CutPrefix(r.Field, "attr."); ok {
		i, seen := c.attrIndex[name]
		if !seen {
			i = len(c.set.attrKeys)
			c.attrIndex[name] = i
			c.set.attrKeys = append(c.set.attrKeys, name)
		}
		n.attr.custom = i
	}
	t, err := newTest(r.Op, r.Value, r.Field == "first_seen" || r.Field == "last_seen")
	n.test = t
	return err
}

// leaf finds or adds the stateful condition of n; conditions with the same
// kind, match and parameters share one.
func (c *setCompiler) leaf(n *node, l leaf, r Rule) error {
	m, err := newMatcher(*r.Event)
	if err != nil {
		return err
	}
	l.match = m
	key := fmt.Sprintf("%d|%s", l.kind, canonicalMatch(*r.Event))
	switch l.kind {
	case leafCount:
		key += fmt.Sprintf("|%d|%d", l.window, l.keep)
	case leafSequence:
		if l.thenNot, err = newMatcher(*r.ThenNot); err != nil {
			return err
		}
		key += fmt.Sprintf("|%d|%s|%s", l.window, l.correlate, canonicalMatch(*r.ThenNot))
	}
	if i, ok := c.leafIndex[key]; ok {
		n.leaf = i
		return nil
	}
	n.leaf = len(c.set.leaves)
	c.leafIndex[key] = n.leaf
	c.set.leaves = append(c.set.leaves, l)
	types := []string{l.match.typ}
	if l.kind == leafSequence && l.thenNot.typ != l.match.typ {
		types = append(types, l.thenNot.typ)
	}
	for _, t := range types {
		c.set.byType[t] = append(c.set.byType[t], n.leaf)
	}
	return nil
}

// canonicalMatch is a Match written so that equal matches give equal text.
func canonicalMatch(m Match) string {
	return Format(Rule{Kind: KindEvent, Event: &m, Within: Window(time.Minute)})
}

// matcher is a compiled Match.
type matcher struct {
	typ, name string
	filters   []filter
}

type filter struct {
	field string // url, revenue, or the props key
	props bool
	test  test
}

func newMatcher(m Match) (matcher, error) {
	out := matcher{typ: m.Type, name: m.Name}
	for _, f := range m.Where {
		t, err := newTest(f.Op, f.Value, false)
		if err != nil {
			return out, err
		}
		key, isProp := strings.CutPrefix(f.Field, "props.")
		out.filters = append(out.filters, filter{field: key, props: isProp, test: t})
	}
	return out, nil
}

// matches reports whether the event is one the Match selects.
func (m *matcher) matches(e *Event) bool {
	if e.Type != m.typ || m.name != "" && e.Name != m.name {
		return false
	}
	for i := range m.filters {
		f := &m.filters[i]
		switch {
		case f.props:
			v, ok := e.Props[f.field]
			if !ok || !f.test.holds(v) {
				return false
			}
		case f.field == "url":
			if e.URL == "" || !f.test.holds(e.URL) {
				return false
			}
		default: // revenue
			if !f.test.holdsNum(e.Revenue) {
				return false
			}
		}
	}
	return true
}
