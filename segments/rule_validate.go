package segments

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pushpipe/pushpipe/schemas"
)

// Limits of a rule.
const (
	MaxDepth      = 8                           // nesting of and/or/not, the root counting as 1
	MaxConditions = 64                          // leaf conditions in the whole rule
	MaxInValues   = 100                         // values of one "in"
	MinWindow     = Window(time.Minute)         // shortest window
	MaxWindow     = Window(90 * 24 * time.Hour) // longest window
	MaxCount      = 1000                        // largest N of an event count
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Validate reports every problem of the rule at once, each with its path
// (such as "and[1].event.within"); nil means the rule is valid.
func Validate(r Rule) []Problem {
	v := &validator{}
	v.rule(r, "", 1)
	if v.leaves > MaxConditions {
		v.add(string(r.Kind), "has %d conditions, more than the limit of %d", v.leaves, MaxConditions)
	}
	return v.problems
}

type validator struct {
	problems []Problem
	leaves   int
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Problem: fmt.Sprintf(format, args...)})
}

func (v *validator) rule(r Rule, parent string, depth int) {
	path := join(parent, string(r.Kind))
	if depth > MaxDepth {
		v.add(path, "nesting deeper than the limit of %d", MaxDepth)
		return
	}
	v.stray(r, path)
	switch r.Kind {
	case KindAnd, KindOr:
		v.group(r, path, depth)
	case KindNot:
		if r.Child == nil {
			v.add(join(path, "child"), "missing: not needs a condition")
			return
		}
		v.rule(*r.Child, path, depth+1)
	case KindAttribute:
		v.leaves++
		v.attribute(r, path)
	default:
		v.leaves++
		v.behaviour(r, path)
	}
}

func (v *validator) group(r Rule, path string, depth int) {
	if len(r.Children) < 2 {
		v.add(join(path, "children"), "%s needs at least two conditions", r.Kind)
	}
	for i, c := range r.Children {
		v.rule(c, path+"["+strconv.Itoa(i)+"]", depth+1)
	}
}

func (v *validator) behaviour(r Rule, path string) {
	switch r.Kind {
	case KindEvent:
		v.match(r.Event, join(path, "event"))
		v.count(r.Count, join(path, "count"))
		v.window(r.Within, join(path, "within"))
	case KindFirst, KindLast:
		v.match(r.Event, join(path, "event"))
		v.when(r, path)
	case KindSequence:
		v.match(r.Event, join(path, "event"))
		v.match(r.ThenNot, join(path, "then_not"))
		v.window(r.Within, join(path, "within"))
		if r.Correlate != "" && !namePattern.MatchString(r.Correlate) {
			v.add(join(path, "correlate"), "must be a property key of letters, digits and _")
		}
	case KindInactive:
		v.window(r.Within, join(path, "within"))
	case KindSegment:
		if r.Segment == "" || !utf8.ValidString(r.Segment) || strings.TrimSpace(r.Segment) != r.Segment {
			v.add(join(path, "segment"), "missing: give the id of the referenced segment")
		}
	default:
		v.add(join(path, "kind"), "unknown kind %q", string(r.Kind))
	}
}

func (v *validator) when(r Rule, path string) {
	switch r.When {
	case WhenWithin:
		v.window(r.Within, join(path, "within"))
		if r.At != "" {
			v.add(join(path, "at"), "not allowed with when \"within\"")
		}
	case WhenBefore, WhenAfter:
		if _, err := time.Parse(time.RFC3339, r.At); err != nil {
			v.add(join(path, "at"), "must be an RFC 3339 instant such as \"2026-01-02T15:04:05Z\"")
		}
		if r.Within != 0 {
			v.add(join(path, "within"), "not allowed with when %q", string(r.When))
		}
	default:
		v.add(join(path, "when"), "must be before, after or within")
	}
}

func (v *validator) window(w Window, path string) {
	switch {
	case w == 0:
		v.add(path, "missing: give a window such as \"7d\", \"1h\" or \"30m\"")
	case w < MinWindow || w > MaxWindow:
		v.add(path, "window %s is outside 1m to 90d", w)
	case time.Duration(w)%time.Minute != 0:
		v.add(path, "window must be a whole number of minutes")
	}
}

func (v *validator) count(c *Count, path string) {
	if c == nil {
		return
	}
	if !isComparison(c.Op) && c.Op != OpEq && c.Op != OpNeq {
		v.add(join(path, "op"), "must be eq, neq, gt, gte, lt or lte")
	}
	if c.N < 0 || c.N > MaxCount {
		v.add(join(path, "n"), "must be a whole number from 0 to %d", MaxCount)
	}
}

func (v *validator) match(m *Match, path string) {
	if m == nil {
		v.add(path, "missing: say which event")
		return
	}
	switch {
	case m.Type == string(schemas.EventSegmentEntered) || m.Type == string(schemas.EventSegmentExited):
		v.add(join(path, "type"), "segment transitions cannot be matched; reference the segment instead")
	case !knownEventType(m.Type):
		v.add(join(path, "type"), "unknown event type %q", m.Type)
	}
	if !utf8.ValidString(m.Name) {
		v.add(join(path, "name"), "must be valid UTF-8")
	}
	if m.Where != nil && len(m.Where) == 0 {
		v.add(join(path, "where"), "empty: give at least one filter or leave it out")
	}
	for i, f := range m.Where {
		fp := join(path, "where") + "[" + strconv.Itoa(i) + "]"
		if !validEventField(f.Field) {
			v.add(join(fp, "field"), "unknown event field %q: use url, revenue or props.<key>", f.Field)
		}
		v.opValue(f.Op, f.Value, false, fp)
	}
}

func (v *validator) attribute(r Rule, path string) {
	if !validAttributeField(r.Field) {
		v.add(join(path, "field"), "unknown attribute %q: use one of %s or attr.<name>", r.Field, strings.Join(AttributeFields, ", "))
	}
	isTime := r.Field == "first_seen" || r.Field == "last_seen"
	v.opValue(r.Op, r.Value, isTime, path)
}

func knownEventType(t string) bool {
	for _, list := range [][]schemas.EventType{schemas.BeaconEventTypes(), schemas.SystemEventTypes()} {
		for _, e := range list {
			if string(e) == t {
				return true
			}
		}
	}
	return false
}

func validAttributeField(f string) bool {
	if name, ok := strings.CutPrefix(f, "attr."); ok {
		return namePattern.MatchString(name)
	}
	return contains(AttributeFields, f)
}

func validEventField(f string) bool {
	if key, ok := strings.CutPrefix(f, "props."); ok {
		return namePattern.MatchString(key)
	}
	return f == "url" || f == "revenue"
}

func isComparison(op Op) bool {
	return op == OpGt || op == OpGte || op == OpLt || op == OpLte
}

// stray reports fields set on a kind that does not use them: Format would
// drop them silently.
func (v *validator) stray(r Rule, path string) {
	allowed, known := kindFields[r.Kind]
	if !known {
		return
	}
	set := []struct {
		name string
		set  bool
	}{
		{"children", r.Children != nil},
		{"child", r.Child != nil},
		{"field", r.Field != ""},
		{"op", r.Op != ""},
		{"value", r.Value != nil},
		{"event", r.Event != nil},
		{"count", r.Count != nil},
		{"when", r.When != ""},
		{"at", r.At != ""},
		{"within", r.Within != 0},
		{"then_not", r.ThenNot != nil},
		{"correlate", r.Correlate != ""},
		{"segment", r.Segment != ""},
	}
	for _, f := range set {
		if f.set && !contains(allowed, f.name) {
			v.add(join(path, f.name), "not allowed in a condition of kind %s", r.Kind)
		}
	}
}
