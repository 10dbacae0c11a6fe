package segments

import (
	"math"
	"regexp"
	"time"
	"unicode/utf8"
)

// opValue checks that the value has the type the operator needs. Time
// attributes (first_seen, last_seen) compare RFC 3339 instants.
func (v *validator) opValue(op Op, value any, isTime bool, path string) {
	vp := join(path, "value")
	switch op {
	case OpExists:
		if value != nil {
			v.add(vp, "not allowed with exists")
		}
	case OpEq, OpNeq:
		v.scalar(value, isTime, true, vp)
	case OpIn:
		v.list(value, isTime, vp)
	case OpContains, OpStartsWith:
		v.str(value, vp)
	case OpRegex:
		if s, ok := v.str(value, vp); ok {
			if _, err := regexp.Compile(s); err != nil {
				v.add(vp, "regex does not compile: %s", err.Error())
			}
		}
	case OpGt, OpGte, OpLt, OpLte:
		v.scalar(value, isTime, false, vp)
	default:
		v.add(join(path, "op"), "unknown operator %q", string(op))
	}
}

func (v *validator) str(value any, path string) (string, bool) {
	s, ok := value.(string)
	switch {
	case !ok:
		v.add(path, "must be a string")
	case !utf8.ValidString(s):
		v.add(path, "must be valid UTF-8")
		ok = false
	}
	return s, ok
}

// scalar accepts a number, or an instant for time fields; strings and
// booleans too when the operator is an equality.
func (v *validator) scalar(value any, isTime, equality bool, path string) {
	if isTime {
		if s, ok := value.(string); !ok || !isInstant(s) {
			v.add(path, "must be an RFC 3339 instant such as \"2026-01-02T15:04:05Z\"")
		}
		return
	}
	switch x := value.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			v.add(path, "must be a finite number")
		}
	case string, bool:
		if !equality {
			v.add(path, "must be a number")
		} else if s, ok := x.(string); ok && !utf8.ValidString(s) {
			v.add(path, "must be valid UTF-8")
		}
	default:
		if equality {
			v.add(path, "must be a string, a number or true/false")
		} else {
			v.add(path, "must be a number")
		}
	}
}

func (v *validator) list(value any, isTime bool, path string) {
	list, ok := value.([]any)
	if !ok || len(list) == 0 || len(list) > MaxInValues {
		v.add(path, "must be a list of 1 to %d values", MaxInValues)
		return
	}
	for i, x := range list {
		if _, isBool := x.(bool); isBool {
			v.add(path+"["+itoa(i)+"]", "must be a string or a number")
			continue
		}
		v.scalar(x, isTime, true, path+"["+itoa(i)+"]")
	}
}

func isInstant(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
