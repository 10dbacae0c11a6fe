package segments

// Compile and CompileWith turn a rule into a ClickHouse query returning the
// members of a site at an instant T. What membership at T means is defined
// once, in DESIGN.md ("Segment membership at instant T"); the incremental
// evaluator implements the same meaning.
//
// The query groups the site's evaluated events up to T (every type but
// segment_entered and segment_exited) by subscriber_id and keeps the groups
// whose HAVING expression holds; each condition is an aggregate over the
// group, and a segment reference is "subscriber_id IN (<its query at T>)".
// Every value from the rule, the site id, the instants, the windows and the
// list of activity types are bound parameters (@name, as clickhouse.Named
// binds them); the text holds only identifiers and fixed keywords. Instants
// are bound as Unix milliseconds.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/schemas"
)

// ErrNotCompiled is returned for rule parts the SQL compiler does not handle
// (none of the valid rules today: every kind and attribute compiles); the
// error wrapping it names the part.
var ErrNotCompiled = errors.New("segment rule kind not compiled to SQL yet")

// ErrUnknownSegment is wrapped by the error for a segment reference the
// resolver does not know (and for every reference given to Compile); the
// error names the id.
var ErrUnknownSegment = errors.New("unknown segment")

// ErrSegmentCycle is wrapped by the error for segment references that lead
// back to a segment being compiled; the error names the path.
var ErrSegmentCycle = errors.New("segment reference cycle")

// ErrSegmentNesting is wrapped by the error for segment references nested
// deeper than MaxSegmentNesting, or more than maxSegmentRefs of them in all.
var ErrSegmentNesting = errors.New("segment references nested too deep")

// MaxSegmentNesting is the deepest chain of segment references compiled: a
// rule may reference a segment that references another, up to 8 levels.
const MaxSegmentNesting = 8

// maxSegmentRefs bounds the references inlined into one query, so that a
// wide tree of references cannot blow the query up.
const maxSegmentRefs = 256

// Resolver returns the rule of the segment with the given id, and false when
// there is no such segment.
type Resolver func(id string) (Rule, bool)

// SQL is a compiled query and its named parameters, to bind with
// clickhouse.Named(name, value) for each entry of Args.
type SQL struct {
	Query string
	Args  map[string]any
}

// eventAttributes are attribute fields read from the events columns of the
// same name.
var eventAttributes = map[string]bool{
	"browser": true, "os": true, "device_type": true, "language": true,
	"country": true, "region": true, "city": true, "timezone": true,
}

// Fixed SQL fragments, built from constants of package schemas only.
var (
	// sqlEvaluated excludes the evaluator's own output from every query.
	sqlEvaluated = "type NOT IN (" + sqlQuoted(schemas.EventSegmentEntered, schemas.EventSegmentExited) + ")"
	// sqlStatusTypes are the events that set the subscription status.
	sqlStatusTypes = "type IN (" + sqlQuoted(schemas.EventSubscribed, schemas.EventUnsubscribed,
		schemas.EventSubscriptionExpired) + ")"
	// sqlStatusValue maps a status event type to the status it sets.
	sqlStatusValue = "multiIf(type = '" + string(schemas.EventSubscriptionExpired) + "', 'expired', toString(type))"
)

// sqlLatest orders events for "latest": by time, ties broken by the larger
// event_id text.
const sqlLatest = "(time, toString(event_id))"

func sqlQuoted(types ...schemas.EventType) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = "'" + string(t) + "'"
	}
	return strings.Join(parts, ", ")
}

// Compile turns a valid rule into a query returning the subscriber_id of every
// member of the rule for site siteID at instant at (see DESIGN.md for what
// membership means). A segment reference is an error wrapping
// ErrUnknownSegment; use CompileWith to compile references.
func Compile(r Rule, siteID string, at time.Time) (SQL, error) {
	return CompileWith(r, siteID, at, nil)
}

// CompileWith is Compile with segment references resolved by resolve: a
// reference compiles to the referenced rule's query at the same instant. An
// unknown id is an error wrapping ErrUnknownSegment, a cycle one wrapping
// ErrSegmentCycle, and references nested deeper than MaxSegmentNesting one
// wrapping ErrSegmentNesting. A nil resolve knows no segment.
func CompileWith(r Rule, siteID string, at time.Time, resolve Resolver) (SQL, error) {
	if problems := Validate(r); len(problems) > 0 {
		return SQL{}, &Error{Problems: problems}
	}
	c := &compiler{
		at: at, resolve: resolve,
		args: map[string]any{"site": siteID, "at": at.UnixMilli()},
	}
	q, err := c.query(r)
	if err != nil {
		return SQL{}, err
	}
	return SQL{Query: q, Args: c.args}, nil
}

type compiler struct {
	at      time.Time
	resolve Resolver
	args    map[string]any
	n       int      // parameters bound so far, shared by every nested query
	stack   []string // ids of the segments being compiled, outermost first
	refs    int      // segment references compiled so far
}

// query compiles the members query of r.
func (c *compiler) query(r Rule) (string, error) {
	expr, err := c.node(r)
	if err != nil {
		return "", err
	}
	return "SELECT subscriber_id FROM events WHERE site_id = @site AND time <= " + msTime("@at") +
		" AND " + sqlEvaluated + " GROUP BY subscriber_id HAVING " + expr, nil
}

// param binds v and returns its placeholder.
func (c *compiler) param(v any) string {
	name := "p" + strconv.Itoa(c.n)
	c.n++
	c.args[name] = v
	return "@" + name
}

// activity is the row predicate of activity events (beacon types), bound
// once as an Array(String) parameter.
func (c *compiler) activity() string {
	if _, ok := c.args["activity"]; !ok {
		types := schemas.BeaconEventTypes()
		list := make([]string, len(types))
		for i, t := range types {
			list[i] = string(t)
		}
		c.args["activity"] = list
	}
	return "has(@activity, toString(type))"
}

// instant binds an instant as Unix milliseconds and returns a DateTime64
// expression.
func (c *compiler) instant(t time.Time) string { return msTime(c.param(t.UnixMilli())) }

func msTime(p string) string { return "fromUnixTimestamp64Milli(toInt64(" + p + "), 'UTC')" }

// windowStart returns the exclusive start of the window ending at T.
func (c *compiler) windowStart(w Window) string {
	return c.instant(c.at.Add(-time.Duration(w)))
}

func (c *compiler) node(r Rule) (string, error) {
	switch r.Kind {
	case KindAnd, KindOr:
		return c.group(r)
	case KindNot:
		e, err := c.node(*r.Child)
		if err != nil {
			return "", err
		}
		return "NOT (" + e + ")", nil
	case KindAttribute:
		return c.attribute(r)
	case KindEvent:
		return c.event(r)
	case KindInactive:
		return "countIf(" + c.activity() + " AND time > " + c.windowStart(r.Within) + ") = 0", nil
	case KindFirst, KindLast:
		return c.firstLast(r)
	case KindSequence:
		return c.sequence(r)
	case KindSegment:
		return c.segment(r.Segment)
	default:
		return "", fmt.Errorf("%w: %s", ErrNotCompiled, r.Kind)
	}
}

func (c *compiler) group(r Rule) (string, error) {
	parts := make([]string, len(r.Children))
	for i, ch := range r.Children {
		e, err := c.node(ch)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + e + ")"
	}
	return strings.Join(parts, " "+strings.ToUpper(string(r.Kind))+" "), nil
}

func (c *compiler) event(r Rule) (string, error) {
	match, err := c.match(*r.Event)
	if err != nil {
		return "", err
	}
	count := Count{Op: OpGte, N: 1}
	if r.Count != nil {
		count = *r.Count
	}
	op, ok := numericOps[count.Op]
	if !ok {
		return "", fmt.Errorf("segments: count operator %q", count.Op)
	}
	return "countIf(" + match + " AND time > " + c.windowStart(r.Within) + ") " + op + " " +
		c.param(int64(count.N)), nil
}

func (c *compiler) firstLast(r Rule) (string, error) {
	match, err := c.match(*r.Event)
	if err != nil {
		return "", err
	}
	agg := "minIf"
	if r.Kind == KindLast {
		agg = "maxIf"
	}
	t := agg + "(time, " + match + ")"
	var cond string
	switch r.When {
	case WhenBefore, WhenAfter:
		instant, err := time.Parse(time.RFC3339Nano, r.At)
		if err != nil {
			return "", fmt.Errorf("segments: %s at: %w", r.Kind, err)
		}
		op := "<"
		if r.When == WhenAfter {
			op = ">"
		}
		cond = t + " " + op + " " + c.instant(instant)
	case WhenWithin:
		cond = t + " > " + c.windowStart(r.Within)
	default:
		return "", fmt.Errorf("segments: %s when %q", r.Kind, r.When)
	}
	return "countIf(" + match + ") > 0 AND " + cond, nil
}

// sequence compiles "Event then not ThenNot within W": some Event at a with
// a + W <= T and no ThenNot at b with a < b <= a + W (in Unix ms), the two on
// the same props[Correlate] when Correlate is set (Event must carry it).
func (c *compiler) sequence(r Rule) (string, error) {
	first, err := c.match(*r.Event)
	if err != nil {
		return "", err
	}
	then, err := c.match(*r.ThenNot)
	if err != nil {
		return "", err
	}
	w := c.param(time.Duration(r.Within).Milliseconds())
	ms := "toUnixTimestamp64Milli(time)"
	if r.Correlate == "" {
		return "arrayExists(a -> a + " + w + " <= toInt64(@at) AND NOT arrayExists(b -> b > a AND b <= a + " + w +
			", groupArrayIf(" + ms + ", " + then + ")), groupArrayIf(" + ms + ", " + first + "))", nil
	}
	k := c.param(r.Correlate)
	carries := " AND mapContains(props, " + k + ")"
	pair := "(" + ms + ", props[" + k + "])"
	return "arrayExists(a -> a.1 + " + w + " <= toInt64(@at) AND NOT arrayExists(b -> b.2 = a.2 AND b.1 > a.1 AND b.1 <= a.1 + " +
		w + ", groupArrayIf(" + pair + ", " + then + carries + ")), groupArrayIf(" + pair + ", " + first + carries + "))", nil
}

// segment compiles a reference: the members of the referenced rule at the
// same instant, with parameters numbered on from the enclosing query's.
func (c *compiler) segment(id string) (string, error) {
	if slices.Contains(c.stack, id) {
		return "", fmt.Errorf("segments: %w: %s", ErrSegmentCycle, strings.Join(append(slices.Clone(c.stack), id), " -> "))
	}
	if len(c.stack) >= MaxSegmentNesting {
		return "", fmt.Errorf("segments: %w: segment %q is below %d levels of references", ErrSegmentNesting, id, MaxSegmentNesting)
	}
	if c.refs++; c.refs > maxSegmentRefs {
		return "", fmt.Errorf("segments: %w: more than %d references in all", ErrSegmentNesting, maxSegmentRefs)
	}
	var r Rule
	ok := false
	if c.resolve != nil {
		r, ok = c.resolve(id)
	}
	if !ok {
		return "", fmt.Errorf("segments: %w: %q", ErrUnknownSegment, id)
	}
	if problems := Validate(r); len(problems) > 0 {
		return "", fmt.Errorf("segments: segment %q: %w", id, &Error{Problems: problems})
	}
	c.stack = append(c.stack, id)
	q, err := c.query(r)
	c.stack = c.stack[:len(c.stack)-1]
	if err != nil {
		return "", err
	}
	return "subscriber_id IN (" + q + ")", nil
}

// match compiles a Match to a row predicate on events.
func (c *compiler) match(m Match) (string, error) {
	parts := []string{"type = " + c.param(m.Type)}
	if m.Name != "" {
		parts = append(parts, "name = "+c.param(m.Name))
	}
	for _, f := range m.Where {
		e, err := c.filter(f)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+e+")")
	}
	return "(" + strings.Join(parts, " AND ") + ")", nil
}

func (c *compiler) filter(f Filter) (string, error) {
	switch {
	case f.Field == "url":
		return c.compare("url", "url != ''", f.Op, f.Value)
	case f.Field == "revenue":
		return c.compare("toString(revenue)", "1", f.Op, f.Value)
	case strings.HasPrefix(f.Field, "props."):
		k := c.param(strings.TrimPrefix(f.Field, "props."))
		return c.compare("props["+k+"]", "mapContains(props, "+k+")", f.Op, f.Value)
	default:
		return "", fmt.Errorf("segments: filter field %q", f.Field)
	}
}

// numericOps are the SQL operators of counts and numeric comparisons.
var numericOps = map[Op]string{
	OpEq: "=", OpNeq: "!=", OpGt: ">", OpGte: ">=", OpLt: "<", OpLte: "<=",
}

func (c *compiler) attribute(r Rule) (string, error) {
	switch f := r.Field; {
	case eventAttributes[f]:
		x := "argMaxIf(" + f + ", " + sqlLatest + ", " + f + " != '')"
		return c.compare(x, "countIf("+f+" != '') > 0", r.Op, r.Value)
	case f == "first_seen" || f == "last_seen":
		return c.instantAttribute(f, r.Op, r.Value)
	case f == "status":
		x := "argMaxIf(" + sqlStatusValue + ", " + sqlLatest + ", " + sqlStatusTypes + ")"
		return c.compare(x, "countIf("+sqlStatusTypes+") > 0", r.Op, r.Value)
	case strings.HasPrefix(f, "attr."):
		key := c.param(strings.TrimPrefix(f, "attr."))
		carries := "type = 'identify' AND mapContains(props, " + key + ")"
		return c.compare("argMaxIf(props["+key+"], "+sqlLatest+", "+carries+")", "countIf("+carries+") > 0", r.Op, r.Value)
	default:
		return "", fmt.Errorf("%w: attribute %s (not stored in ClickHouse)", ErrNotCompiled, f)
	}
}

// instantAttribute compares first_seen (min time) or last_seen (max time) of
// activity events with RFC 3339 instants; absent without activity.
func (c *compiler) instantAttribute(field string, op Op, value any) (string, error) {
	act := c.activity()
	present := "countIf(" + act + ") > 0"
	x := "minIf(time, " + act + ")"
	if field == "last_seen" {
		x = "maxIf(time, " + act + ")"
	}
	if op == OpExists {
		return "(" + present + ")", nil
	}
	values := []any{value}
	sqlOp, ok := numericOps[op]
	if op == OpIn {
		values, ok = value.([]any)
		sqlOp = "="
	}
	if !ok {
		return "", fmt.Errorf("segments: operator %q on %s", op, field)
	}
	parts := make([]string, len(values))
	for i, v := range values {
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", fmt.Errorf("segments: %s value: %w", field, err)
		}
		parts[i] = x + " " + sqlOp + " " + c.instant(t)
	}
	return "((" + present + ") AND (" + strings.Join(parts, " OR ") + "))", nil
}

// compare compiles "x op value" on a text expression x, true only when the
// expression present holds; the result is never NULL, so NOT stays exact.
func (c *compiler) compare(x, present string, op Op, value any) (string, error) {
	var cmp string
	switch op {
	case OpExists:
		return "(" + present + ")", nil
	case OpEq, OpNeq, OpGt, OpGte, OpLt, OpLte:
		cmp = c.scalar(x, numericOps[op], value)
	case OpIn:
		values, _ := value.([]any)
		parts := make([]string, len(values))
		for i, v := range values {
			parts[i] = c.scalar(x, "=", v)
		}
		cmp = strings.Join(parts, " OR ")
	case OpContains:
		cmp = "position(" + x + ", " + c.param(value) + ") > 0"
	case OpStartsWith:
		cmp = "startsWith(" + x + ", " + c.param(value) + ")"
	case OpRegex:
		cmp = "match(" + x + ", " + c.param(value) + ")"
	default:
		return "", fmt.Errorf("segments: operator %q", op)
	}
	return "((" + present + ") AND (" + cmp + "))", nil
}

// scalar compares x with one value: numerically for numbers, as text for
// strings, with "true"/"false" for booleans.
func (c *compiler) scalar(x, sqlOp string, value any) string {
	switch v := value.(type) {
	case float64:
		return "ifNull(toFloat64OrNull(" + x + ") " + sqlOp + " " + c.param(v) + ", 0)"
	case bool:
		return x + " " + sqlOp + " " + c.param(strconv.FormatBool(v))
	default:
		return x + " " + sqlOp + " " + c.param(fmt.Sprint(v))
	}
}
