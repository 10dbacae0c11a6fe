package segments

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind discriminates the nodes of a rule tree; it is the "kind" field of the
// JSON form.
type Kind string

// The node kinds.
const (
	KindAnd       Kind = "and"       // all Children hold
	KindOr        Kind = "or"        // at least one of Children holds
	KindNot       Kind = "not"       // Child does not hold
	KindAttribute Kind = "attribute" // Field Op Value on the subscriber
	KindEvent     Kind = "event"     // Event happened (Count times) Within the last window
	KindFirst     Kind = "first"     // the first Event happened When (before/after At, or Within)
	KindLast      Kind = "last"      // the last Event happened When (before/after At, or Within)
	KindSequence  Kind = "sequence"  // Event happened but not ThenNot Within after it
	KindInactive  Kind = "inactive"  // no event at all Within the last window
	KindSegment   Kind = "segment"   // member of the segment named by Segment
)

// Op is a comparison operator of attribute conditions, property filters and
// counts.
type Op string

// The operators.
const (
	OpEq         Op = "eq"
	OpNeq        Op = "neq"
	OpIn         Op = "in"
	OpContains   Op = "contains"
	OpStartsWith Op = "starts_with"
	OpRegex      Op = "regex"
	OpGt         Op = "gt"
	OpGte        Op = "gte"
	OpLt         Op = "lt"
	OpLte        Op = "lte"
	OpExists     Op = "exists"
)

// When says how a first/last condition relates the event time to the instant
// of evaluation: before or after the absolute instant At, or Within the last
// window.
type When string

// The values of When.
const (
	WhenBefore When = "before"
	WhenAfter  When = "after"
	WhenWithin When = "within"
)

// Rule is one node of a segment rule. Which fields are meaningful depends on
// Kind (see the Kind constants); the others stay zero. Values are string,
// float64, bool, or []any of strings and float64s (for in), as JSON decodes
// them, so that a rule compares equal to its decoded JSON form.
type Rule struct {
	Kind      Kind
	Children  []Rule // and, or
	Child     *Rule  // not
	Field     string // attribute: one of AttributeFields or "attr.<name>"
	Op        Op     // attribute
	Value     any    // attribute; nil for exists
	Event     *Match // event, first, last, sequence (the event that must happen)
	Count     *Count // event; nil means at least once
	When      When   // first, last
	At        string // first, last with before/after: an RFC 3339 instant
	Within    Window // event, first/last with within, sequence, inactive
	ThenNot   *Match // sequence: the event that must not follow within the window
	Correlate string // sequence: optional property key both events must share
	Segment   string // segment: the referenced segment id
}

// Match selects events: by type, optionally by name, optionally by property
// filters that must all hold.
type Match struct {
	Type  string   // a schemas.EventType
	Name  string   // optional event name (custom events, conversions)
	Where []Filter // optional; nil when none
}

// Filter is a condition on one event field: "url", "revenue" or
// "props.<key>".
type Filter struct {
	Field string
	Op    Op
	Value any
}

// Count bounds how many matching events happened within the window.
type Count struct {
	Op Op // eq, neq, gt, gte, lt, lte
	N  int
}

// AttributeFields are the built-in subscriber attributes; custom identify
// attributes are written "attr.<name>".
var AttributeFields = []string{
	"country", "region", "city", "browser", "os", "device_type", "language",
	"timezone", "status", "first_seen", "last_seen",
}

// Window is a duration written as a whole number of minutes, hours or days:
// "30m", "1h", "7d".
type Window time.Duration

const day = 24 * time.Hour

// ParseWindow reads "<n>m", "<n>h" or "<n>d" with n a positive integer.
func ParseWindow(s string) (Window, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("window %q: want a number followed by m, h or d", s)
	}
	units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': day}
	unit, ok := units[s[len(s)-1]]
	digits := s[:len(s)-1]
	if !ok || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("window %q: want a number followed by m, h or d", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("window %q: the number must be positive and not huge", s)
	}
	return Window(time.Duration(n) * unit), nil
}

// String writes the window with the largest unit that divides it exactly.
func (w Window) String() string {
	d := time.Duration(w)
	switch {
	case d != 0 && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d != 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	default:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
}

// Problem is one thing wrong with a rule: where (a path such as
// "and[1].event.within") and what.
type Problem struct {
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

func (p Problem) String() string { return p.Path + ": " + p.Problem }

// Error carries every problem found in a rule.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid segment rule: " + strings.Join(parts, "; ")
}

func itoa(i int) string { return strconv.Itoa(i) }
