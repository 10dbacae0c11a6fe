package segments

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Format writes the readable text form of a rule, for example
//
//	country in ("FR", "DE") and event add_to_cart where props.price > 50 count >= 2 within 7d and not event purchase within 1h
//
// ParseText reads it back: ParseText(Format(r)) equals r for every valid r.
// "and" binds tighter than "or"; nested groups of the same kind keep their
// parentheses so that the tree shape survives the round trip.
func Format(r Rule) string {
	var b strings.Builder
	writeRule(&b, r)
	return b.String()
}

var opSymbols = map[Op]string{
	OpEq: "=", OpNeq: "!=", OpGt: ">", OpGte: ">=", OpLt: "<", OpLte: "<=",
	OpIn: "in", OpContains: "contains", OpStartsWith: "starts_with", OpRegex: "regex", OpExists: "exists",
}

// keywords may not be used as the bare name of a custom event.
var keywords = []string{
	"and", "or", "not", "event", "first", "last", "sequence", "inactive", "segment",
	"where", "count", "within", "before", "after", "then", "correlate",
	"in", "contains", "starts_with", "regex", "exists", "true", "false",
}

var bareName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func writeRule(b *strings.Builder, r Rule) {
	switch r.Kind {
	case KindAnd, KindOr:
		for i, c := range r.Children {
			if i > 0 {
				b.WriteString(" " + string(r.Kind) + " ")
			}
			writeGrouped(b, c, c.Kind == KindOr || c.Kind == r.Kind)
		}
	case KindNot:
		b.WriteString("not ")
		if r.Child != nil {
			writeGrouped(b, *r.Child, r.Child.Kind == KindAnd || r.Child.Kind == KindOr)
		}
	case KindAttribute:
		writeCondition(b, r.Field, r.Op, r.Value)
	default:
		writeBehaviour(b, r)
	}
}

func writeGrouped(b *strings.Builder, r Rule, parens bool) {
	if parens {
		b.WriteString("(")
	}
	writeRule(b, r)
	if parens {
		b.WriteString(")")
	}
}

func writeBehaviour(b *strings.Builder, r Rule) {
	switch r.Kind {
	case KindEvent:
		writeMatch(b, r.Event)
		if r.Count != nil {
			b.WriteString(" count " + opSymbols[r.Count.Op] + " " + strconv.Itoa(r.Count.N))
		}
		b.WriteString(" within " + r.Within.String())
	case KindFirst, KindLast:
		b.WriteString(string(r.Kind) + " ")
		writeMatch(b, r.Event)
		b.WriteString(" " + string(r.When) + " ")
		if r.When == WhenWithin {
			b.WriteString(r.Within.String())
		} else {
			b.WriteString(strconv.Quote(r.At))
		}
	case KindSequence:
		b.WriteString("sequence ")
		writeMatch(b, r.Event)
		b.WriteString(" then not ")
		writeMatch(b, r.ThenNot)
		b.WriteString(" within " + r.Within.String())
		if r.Correlate != "" {
			b.WriteString(" correlate " + strconv.Quote(r.Correlate))
		}
	case KindInactive:
		b.WriteString("inactive within " + r.Within.String())
	case KindSegment:
		b.WriteString("segment " + strconv.Quote(r.Segment))
	}
}

func writeMatch(b *strings.Builder, m *Match) {
	if m == nil {
		return
	}
	b.WriteString("event ")
	switch {
	case m.Type == "custom" && isBareName(m.Name):
		b.WriteString(m.Name)
	case m.Name != "":
		b.WriteString(m.Type + " " + strconv.Quote(m.Name))
	default:
		b.WriteString(m.Type)
	}
	for i, f := range m.Where {
		if i == 0 {
			b.WriteString(" where ")
		} else {
			b.WriteString(", ")
		}
		writeCondition(b, f.Field, f.Op, f.Value)
	}
}

// isBareName says whether a custom event name can be written without its
// type and quotes: a plain identifier that is neither a keyword nor an event
// type.
func isBareName(name string) bool {
	return bareName.MatchString(name) && !contains(keywords, name) && !knownEventType(name)
}

func writeCondition(b *strings.Builder, field string, op Op, value any) {
	b.WriteString(field + " " + opSymbols[op])
	if op != OpExists {
		b.WriteString(" ")
		writeValue(b, value)
	}
}

func writeValue(b *strings.Builder, value any) {
	switch x := value.(type) {
	case string:
		b.WriteString(strconv.Quote(x))
	case float64:
		b.WriteString(formatNumber(x))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case []any:
		b.WriteString("(")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteString(")")
	}
}

func formatNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
