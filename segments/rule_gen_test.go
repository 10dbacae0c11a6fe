package segments

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// ruleGen builds random valid rules for the round-trip tests.
type ruleGen struct {
	rnd    *rand.Rand
	leaves int
}

func newRuleGen(seed uint64) *ruleGen {
	return &ruleGen{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *ruleGen) pick(options ...string) string { return options[g.rnd.IntN(len(options))] }

func (g *ruleGen) rule(depth int) Rule {
	g.leaves = 0
	return g.node(depth)
}

func (g *ruleGen) node(depth int) Rule {
	if depth < MaxDepth && g.leaves < MaxConditions-8 && g.rnd.IntN(3) == 0 {
		switch g.rnd.IntN(3) {
		case 0:
			child := g.node(depth + 1)
			return Rule{Kind: KindNot, Child: &child}
		default:
			r := Rule{Kind: Kind(g.pick("and", "or"))}
			for range 2 + g.rnd.IntN(3) {
				r.Children = append(r.Children, g.node(depth+1))
			}
			return r
		}
	}
	g.leaves++
	return g.leaf()
}

func (g *ruleGen) leaf() Rule {
	switch g.rnd.IntN(7) {
	case 0:
		return g.attribute()
	case 1:
		r := Rule{Kind: KindEvent, Event: g.match(), Within: g.window()}
		if g.rnd.IntN(2) == 0 {
			r.Count = &Count{Op: Op(g.pick("eq", "neq", "gt", "gte", "lt", "lte")), N: g.rnd.IntN(20)}
		}
		return r
	case 2:
		r := Rule{Kind: Kind(g.pick("first", "last")), Event: g.match(), When: When(g.pick("before", "after", "within"))}
		if r.When == WhenWithin {
			r.Within = g.window()
		} else {
			r.At = g.instant()
		}
		return r
	case 3:
		r := Rule{Kind: KindSequence, Event: g.match(), ThenNot: g.match(), Within: g.window()}
		if g.rnd.IntN(2) == 0 {
			r.Correlate = g.pick("cart_id", "order", "x1")
		}
		return r
	case 4:
		return Rule{Kind: KindInactive, Within: g.window()}
	case 5:
		return Rule{Kind: KindSegment, Segment: g.pick("seg_1", "0195a3c2-7b1e-7c00-8000-000000000001", "a \"quoted\" id")}
	default:
		return g.attribute()
	}
}

func (g *ruleGen) attribute() Rule {
	field := g.pick(append(AttributeFields, "attr.plan", "attr.x_9")...)
	op, value := g.opValue(field == "first_seen" || field == "last_seen")
	return Rule{Kind: KindAttribute, Field: field, Op: op, Value: value}
}

func (g *ruleGen) opValue(isTime bool) (Op, any) {
	if isTime {
		return Op(g.pick("eq", "neq", "gt", "gte", "lt", "lte")), g.instant()
	}
	switch op := Op(g.pick("eq", "neq", "in", "contains", "starts_with", "regex", "gt", "gte", "lt", "lte", "exists")); op {
	case OpExists:
		return op, nil
	case OpEq, OpNeq:
		return op, g.scalar(true)
	case OpIn:
		list := make([]any, 1+g.rnd.IntN(4))
		for i := range list {
			list[i] = g.scalar(false)
		}
		return op, list
	case OpContains, OpStartsWith:
		return op, g.str()
	case OpRegex:
		return op, g.pick(`^/pricing`, `a.*b`, `(?i)cart\d+`)
	default:
		return op, g.number()
	}
}

func (g *ruleGen) scalar(withBool bool) any {
	switch g.rnd.IntN(3) {
	case 0:
		return g.number()
	case 1:
		if withBool {
			return g.rnd.IntN(2) == 0
		}
	}
	return g.str()
}

func (g *ruleGen) str() string {
	return g.pick("FR", "", "Paris", "a \"b\"\\c", "héllo", "tab\there", "/pricing", "ümlaut 🚀")
}

func (g *ruleGen) number() float64 {
	switch g.rnd.IntN(4) {
	case 0:
		return float64(g.rnd.IntN(1000))
	case 1:
		return -g.rnd.Float64() * 100
	case 2:
		return g.rnd.NormFloat64() * 1e12
	default:
		return g.rnd.Float64() * 1e-9
	}
}

func (g *ruleGen) window() Window {
	unit := []time.Duration{time.Minute, time.Hour, day}[g.rnd.IntN(3)]
	maxN := int(time.Duration(MaxWindow) / unit)
	return Window(time.Duration(1+g.rnd.IntN(maxN)) * unit)
}

func (g *ruleGen) instant() string {
	t := time.Date(2020+g.rnd.IntN(10), time.Month(1+g.rnd.IntN(12)), 1+g.rnd.IntN(28), g.rnd.IntN(24), 0, 0, 0, time.UTC)
	return t.Format(time.RFC3339)
}

func (g *ruleGen) match() *Match {
	m := &Match{Type: g.pick("page_view", "custom", "conversion", "identify", "push_clicked")}
	if m.Type == "custom" || g.rnd.IntN(3) == 0 {
		m.Name = g.pick("add_to_cart", "purchase", "page_view", "sign up", "where", "")
	}
	for range g.rnd.IntN(3) {
		field := g.pick("url", "revenue", "props.price", "props.cart_id", "props."+strconv.Itoa(g.rnd.IntN(9)))
		op, value := g.opValue(false)
		m.Where = append(m.Where, Filter{Field: field, Op: op, Value: value})
	}
	return m
}
