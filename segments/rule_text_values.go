package segments

import (
	"math"
	"strconv"
)

var symbolOps = map[string]Op{"=": OpEq, "!=": OpNeq, ">": OpGt, ">=": OpGte, "<": OpLt, "<=": OpLte}

var wordOps = map[string]Op{
	"in": OpIn, "contains": OpContains, "starts_with": OpStartsWith, "regex": OpRegex, "exists": OpExists,
}

// opValue reads an operator and, unless it is exists, its value.
func (p *parser) opValue() (Op, any) {
	t := p.next()
	op, ok := symbolOps[t.text]
	if t.kind == tokWord {
		op, ok = wordOps[t.text]
	}
	if !ok || t.kind == tokString {
		p.fail(t, "expected an operator (= != > >= < <= in contains starts_with regex exists)")
		return "", nil
	}
	switch op {
	case OpExists:
		return op, nil
	case OpIn:
		return op, p.list()
	}
	return op, p.value()
}

func (p *parser) list() any {
	p.expect(tokPunct, "(")
	var out []any
	for ok := true; ok && p.err == nil; ok = p.accept(tokPunct, ",") {
		out = append(out, p.value())
	}
	p.expect(tokPunct, ")")
	return out
}

// value reads a string, a number, true or false.
func (p *parser) value() any {
	t := p.next()
	switch {
	case t.kind == tokString:
		return t.text
	case t.kind == tokWord && (t.text == "true" || t.text == "false"):
		return t.text == "true"
	case t.kind == tokWord:
		f, err := strconv.ParseFloat(t.text, 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	}
	p.fail(t, "expected a value: a \"string\", a number, true or false")
	return nil
}

func (p *parser) countOp() Op {
	t := p.next()
	op, ok := symbolOps[t.text]
	if t.kind != tokPunct || !ok {
		p.fail(t, "expected a comparison (= != > >= < <=)")
	}
	return op
}

func (p *parser) integer() int {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != tokWord || err != nil || n < 0 {
		p.fail(t, "expected a whole number")
	}
	return n
}

func (p *parser) within() Window {
	p.expect(tokWord, "within")
	return p.window()
}

func (p *parser) window() Window {
	t := p.next()
	if p.err != nil {
		return 0
	}
	w, err := ParseWindow(t.text)
	if t.kind != tokWord || err != nil {
		p.fail(t, "expected a window such as 7d, 1h or 30m")
	}
	return w
}

func (p *parser) str() string {
	t := p.next()
	if t.kind != tokString {
		p.fail(t, "expected a \"string\"")
	}
	return t.text
}
