package segments

// Membership at an instant T, as the SQL compiler computes it.
//
//   - Event time is events.time (the skew-corrected client time). Only events
//     with time <= T count; later events do not exist yet at T.
//   - The universe is every subscriber_id with at least one event for the site
//     at or before T. Only those can be members.
//   - A window W at T covers events with time in (T-W, T]: the start is
//     exclusive, the end inclusive. An event exactly at T-W is out.
//   - Attributes browser, os, device_type, language, country, region, city
//     come from the latest event at or before T that carries them (non-empty),
//     argMax over time. attr.<name> comes from the latest identify event at or
//     before T whose props carry the key. first_seen and last_seen are the
//     min and max event time at or before T. status comes from the subscribers
//     table: it is the status as of now, not as of T. timezone is not stored in
//     ClickHouse and is not compiled.
//   - An attribute comparison (every operator but exists) needs the attribute
//     to be present: "country neq FR" excludes subscribers with no country,
//     while "not country eq FR" includes them. Numbers compare numerically
//     (a text value that is not a number never matches a numeric comparison);
//     true and false compare with the text "true" and "false"; contains and
//     starts_with are case-sensitive, regex is RE2 (ClickHouse match).
//   - event: count the matching events in the window and compare with Count
//     (at least one when Count is nil).
//   - inactive: no event at all in the window (the subscriber had one before).
//   - first / last: the first (last) matching event at or before T exists and
//     its time is strictly before (after) At, or lies in the window.
//   - not, and, or are boolean over the universe: not holds for every
//     subscriber of the universe for whom its child does not.
//   - sequence and segment are not compiled yet (ErrNotCompiled).
//
// The query groups the site's events up to T by subscriber_id and keeps the
// groups whose HAVING expression holds; each condition is an aggregate over
// the group (status is a subquery on subscribers). Every value from the rule,
// the site id and the instants are bound parameters (@name, as
// clickhouse.Named binds them); the text holds only identifiers and fixed
// keywords. Instants are bound as Unix milliseconds.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotCompiled is returned for rule kinds the SQL compiler does not handle
// yet; the error wrapping it names the kind.
var ErrNotCompiled = errors.New("segment rule kind not compiled to SQL yet")

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
	"country": true, "region": true, "city": true,
}

// Compile turns a valid rule into a query returning the subscriber_id of every
// member of the rule for site siteID at instant at (see the comment at the
// top of this file for what membership means).
func Compile(r Rule, siteID string, at time.Time) (SQL, error) {
	if problems := Validate(r); len(problems) > 0 {
		return SQL{}, &Error{Problems: problems}
	}
	c := &compiler{at: at, args: map[string]any{"site": siteID, "at": at.UnixMilli()}}
	expr, err := c.node(r)
	if err != nil {
		return SQL{}, err
	}
	q := "SELECT subscriber_id FROM events WHERE site_id = @site AND time <= " + msTime("@at") +
		" GROUP BY subscriber_id HAVING " + expr
	return SQL{Query: q, Args: c.args}, nil
}

type compiler struct {
	at   time.Time
	args map[string]any
	n    int
}

// param binds v and returns its placeholder.
func (c *compiler) param(v any) string {
	name := "p" + strconv.Itoa(c.n)
	c.n++
	c.args[name] = v
	return "@" + name
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
		return "countIf(time > " + c.windowStart(r.Within) + ") = 0", nil
	case KindFirst, KindLast:
		return c.firstLast(r)
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
		x := "argMaxIf(" + f + ", time, " + f + " != '')"
		return c.compare(x, "countIf("+f+" != '') > 0", r.Op, r.Value)
	case f == "first_seen" || f == "last_seen":
		return c.instantAttribute(f, r.Op, r.Value)
	case f == "status":
		e, err := c.compare("status", "status != ''", r.Op, r.Value)
		if err != nil {
			return "", err
		}
		return "subscriber_id IN (SELECT subscriber_id FROM subscribers FINAL WHERE site_id = @site AND " +
			e + ")", nil
	case strings.HasPrefix(f, "attr."):
		key := c.param(strings.TrimPrefix(f, "attr."))
		carries := "type = 'identify' AND mapContains(props, " + key + ")"
		return c.compare("argMaxIf(props["+key+"], time, "+carries+")", "countIf("+carries+") > 0", r.Op, r.Value)
	default:
		return "", fmt.Errorf("%w: attribute %s (not stored in ClickHouse)", ErrNotCompiled, f)
	}
}

// instantAttribute compares first_seen (min time) or last_seen (max time)
// with RFC 3339 instants.
func (c *compiler) instantAttribute(field string, op Op, value any) (string, error) {
	x := "min(time)"
	if field == "last_seen" {
		x = "max(time)"
	}
	if op == OpExists {
		return "1", nil
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
	return "(" + strings.Join(parts, " OR ") + ")", nil
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
