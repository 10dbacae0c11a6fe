package segments

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// test is a compiled comparison "x op value" on a text x, with the meaning of
// the SQL compiler: numbers compare numerically (a text that is not a number
// never matches), booleans as "true"/"false", strings as bytes.
type test struct {
	op     Op
	values []scalar // one, or the list of in
	re     *regexp.Regexp
}

type scalar struct {
	text  string
	num   float64
	isNum bool
}

func newTest(op Op, value any, isTime bool) (test, error) {
	t := test{op: op}
	switch op {
	case OpExists:
		return t, nil
	case OpRegex:
		s, _ := value.(string)
		re, err := regexp.Compile(s)
		if err != nil {
			return t, err
		}
		t.re = re
		return t, nil
	case OpIn:
		list, _ := value.([]any)
		for _, v := range list {
			s, err := newScalar(v, isTime)
			if err != nil {
				return t, err
			}
			t.values = append(t.values, s)
		}
		return t, nil
	}
	s, err := newScalar(value, isTime)
	t.values = []scalar{s}
	return t, err
}

// newScalar reads a rule value; instants (for first_seen, last_seen) become
// Unix milliseconds compared as numbers.
func newScalar(v any, isTime bool) (scalar, error) {
	switch x := v.(type) {
	case float64:
		return scalar{num: x, isNum: true}, nil
	case bool:
		return scalar{text: strconv.FormatBool(x)}, nil
	case string:
		if isTime {
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return scalar{}, err
			}
			return scalar{num: float64(t.UnixMilli()), isNum: true}, nil
		}
		return scalar{text: x}, nil
	}
	return scalar{}, nil
}

// holds tests a present text x.
func (t *test) holds(x string) bool {
	switch t.op {
	case OpExists:
		return true
	case OpContains:
		return strings.Contains(x, t.values[0].text)
	case OpStartsWith:
		return strings.HasPrefix(x, t.values[0].text)
	case OpRegex:
		return t.re.MatchString(x)
	case OpIn:
		for i := range t.values {
			if t.values[i].compare(OpEq, x) {
				return true
			}
		}
		return false
	}
	return t.values[0].compare(t.op, x)
}

// holdsNum tests a present number (an instant in Unix ms, or revenue).
func (t *test) holdsNum(x float64) bool {
	switch t.op {
	case OpExists:
		return true
	case OpContains, OpStartsWith, OpRegex:
		return t.holds(numberText(x))
	case OpIn:
		for i := range t.values {
			if t.values[i].compareNum(OpEq, x) {
				return true
			}
		}
		return false
	}
	return t.values[0].compareNum(t.op, x)
}

func (s scalar) compare(op Op, x string) bool {
	if s.isNum {
		f, ok := parseNumber(x)
		return ok && s.compareNum(op, f)
	}
	return cmpOp(op, strings.Compare(x, s.text))
}

func (s scalar) compareNum(op Op, x float64) bool {
	if !s.isNum {
		return s.compare(op, numberText(x))
	}
	switch {
	case x < s.num:
		return cmpOp(op, -1)
	case x > s.num:
		return cmpOp(op, 1)
	}
	return cmpOp(op, 0)
}

// cmpOp applies op to the result c of comparing x with the value.
func cmpOp(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNeq:
		return c != 0
	case OpGt:
		return c > 0
	case OpGte:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLte:
		return c <= 0
	}
	return false
}

// parseNumber reads a decimal number the way ClickHouse's toFloat64OrNull
// does for the plain forms: an optional sign, digits with an optional
// fraction, an optional exponent. Hex, underscores and spaces are refused.
func parseNumber(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "_xXpP \t") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// numberText writes a number as text, the shortest decimal form.
func numberText(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
