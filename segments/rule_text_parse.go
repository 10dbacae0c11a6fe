package segments

import (
	"strconv"
)

// maxTextNesting stops runaway recursion on hostile input long before the
// stack is at risk; Validate then applies the real limit, MaxDepth.
const maxTextNesting = 64

// ParseText reads the text form written by Format, then validates the rule.
// A syntax error is a *TextError with the line and column; a rule that reads
// but breaks the rules of Validate gives an *Error.
func ParseText(src string) (Rule, error) {
	toks, lerr := lex(src)
	if lerr != nil {
		return Rule{}, lerr
	}
	p := &parser{src: src, toks: toks}
	r := p.or(0)
	if p.err == nil && p.peek().kind != tokEOF {
		p.fail(p.peek(), "expected and, or, or the end of the rule")
	}
	if p.err != nil {
		return Rule{}, p.err
	}
	if ps := Validate(r); len(ps) > 0 {
		return Rule{}, &Error{Problems: ps}
	}
	return r, nil
}

// parser is a recursive-descent parser; the first error sticks and ends
// every loop.
type parser struct {
	src  string
	toks []token
	at   int
	err  *TextError
}

func (p *parser) peek() token { return p.toks[p.at] }

func (p *parser) next() token {
	t := p.toks[p.at]
	if t.kind != tokEOF {
		p.at++
	}
	return t
}

func (p *parser) fail(t token, msg string) {
	if p.err == nil {
		p.err = textError(p.src, t.pos, msg+", found "+t.describe())
	}
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tokWord && t.text == w
}

func (p *parser) accept(kind tokenKind, text string) bool {
	t := p.peek()
	if p.err != nil || t.kind != kind || t.text != text {
		return false
	}
	p.at++
	return true
}

func (p *parser) expect(kind tokenKind, text string) {
	if !p.accept(kind, text) {
		p.fail(p.peek(), "expected "+strconv.Quote(text))
	}
}

func (p *parser) or(depth int) Rule {
	return p.chain(KindOr, depth, p.and)
}

func (p *parser) and(depth int) Rule {
	return p.chain(KindAnd, depth, p.unary)
}

// chain reads operand (kind operand)*; a single operand stands alone.
func (p *parser) chain(kind Kind, depth int, operand func(int) Rule) Rule {
	first := operand(depth)
	if !p.isWord(string(kind)) {
		return first
	}
	r := Rule{Kind: kind, Children: []Rule{first}}
	for p.accept(tokWord, string(kind)) {
		r.Children = append(r.Children, operand(depth))
	}
	return r
}

func (p *parser) unary(depth int) Rule {
	if depth > maxTextNesting {
		p.fail(p.peek(), "nested too deeply")
		return Rule{}
	}
	if p.accept(tokWord, "not") {
		child := p.unary(depth + 1)
		return Rule{Kind: KindNot, Child: &child}
	}
	if p.accept(tokPunct, "(") {
		r := p.or(depth + 1)
		p.expect(tokPunct, ")")
		return r
	}
	return p.condition()
}

func (p *parser) condition() Rule {
	t := p.peek()
	if t.kind != tokWord {
		p.fail(t, "expected a condition")
		return Rule{}
	}
	switch t.text {
	case "event":
		return p.event()
	case "first", "last":
		p.next()
		return p.firstLast(Kind(t.text))
	case "sequence":
		p.next()
		return p.sequence()
	case "inactive":
		p.next()
		return Rule{Kind: KindInactive, Within: p.within()}
	case "segment":
		p.next()
		return Rule{Kind: KindSegment, Segment: p.str()}
	}
	p.next()
	op, value := p.opValue()
	return Rule{Kind: KindAttribute, Field: t.text, Op: op, Value: value}
}

func (p *parser) event() Rule {
	r := Rule{Kind: KindEvent, Event: p.match()}
	if p.accept(tokWord, "count") {
		r.Count = &Count{Op: p.countOp(), N: p.integer()}
	}
	r.Within = p.within()
	return r
}

func (p *parser) firstLast(kind Kind) Rule {
	r := Rule{Kind: kind, Event: p.match()}
	t := p.next()
	switch {
	case t.kind == tokWord && t.text == "within":
		r.When, r.Within = WhenWithin, p.window()
	case t.kind == tokWord && (t.text == "before" || t.text == "after"):
		r.When, r.At = When(t.text), p.str()
	default:
		p.fail(t, "expected before, after or within")
	}
	return r
}

func (p *parser) sequence() Rule {
	r := Rule{Kind: KindSequence, Event: p.match()}
	p.expect(tokWord, "then")
	p.expect(tokWord, "not")
	r.ThenNot = p.match()
	r.Within = p.within()
	if p.accept(tokWord, "correlate") {
		r.Correlate = p.str()
	}
	return r
}

// match reads: event TYPE ["name"] | event NAME, then [where filter, ...].
func (p *parser) match() *Match {
	p.expect(tokWord, "event")
	t := p.next()
	m := &Match{}
	switch {
	case p.err != nil:
		return m
	case t.kind == tokWord && knownEventType(t.text):
		m.Type = t.text
		if p.peek().kind == tokString {
			m.Name = p.next().text
		}
	case t.kind == tokWord && isBareName(t.text):
		m.Type, m.Name = "custom", t.text
	default:
		p.fail(t, "expected an event type or a custom event name")
	}
	if !p.accept(tokWord, "where") {
		return m
	}
	for ok := true; ok && p.err == nil; ok = p.accept(tokPunct, ",") {
		field := p.next()
		if field.kind != tokWord {
			p.fail(field, "expected an event field such as url or props.price")
		}
		op, value := p.opValue()
		m.Where = append(m.Where, Filter{Field: field.text, Op: op, Value: value})
	}
	return m
}
