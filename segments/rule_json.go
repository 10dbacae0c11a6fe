package segments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Parse reads the JSON form of a rule, then validates it. The error, if any,
// is an *Error listing every problem with its path.
func Parse(data []byte) (Rule, error) {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return Rule{}, &Error{Problems: []Problem{{Path: "", Problem: "not valid JSON: " + err.Error()}}}
	}
	if dec.More() {
		return Rule{}, &Error{Problems: []Problem{{Path: "", Problem: "not valid JSON: text after the rule"}}}
	}
	d := &decoder{}
	r := d.rule(raw, "")
	if len(d.problems) > 0 {
		return Rule{}, &Error{Problems: d.problems}
	}
	if ps := Validate(r); len(ps) > 0 {
		return Rule{}, &Error{Problems: ps}
	}
	return r, nil
}

// MarshalJSON writes the JSON form of the rule.
func (r Rule) MarshalJSON() ([]byte, error) { return json.Marshal(toJSON(r)) }

// UnmarshalJSON reads the JSON form of the rule with Parse.
func (r *Rule) UnmarshalJSON(data []byte) error {
	parsed, err := Parse(data)
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}

type jsonRule struct {
	Kind      Kind       `json:"kind"`
	Children  []jsonRule `json:"children,omitempty"`
	Child     *jsonRule  `json:"child,omitempty"`
	Field     string     `json:"field,omitempty"`
	Op        Op         `json:"op,omitempty"`
	Value     any        `json:"value,omitempty"`
	Event     *jsonMatch `json:"event,omitempty"`
	Count     *jsonCount `json:"count,omitempty"`
	When      When       `json:"when,omitempty"`
	At        string     `json:"at,omitempty"`
	Within    string     `json:"within,omitempty"`
	ThenNot   *jsonMatch `json:"then_not,omitempty"`
	Correlate string     `json:"correlate,omitempty"`
	Segment   string     `json:"segment,omitempty"`
}

type jsonMatch struct {
	Type  string       `json:"type"`
	Name  string       `json:"name,omitempty"`
	Where []jsonFilter `json:"where,omitempty"`
}

type jsonFilter struct {
	Field string `json:"field"`
	Op    Op     `json:"op"`
	Value any    `json:"value,omitempty"`
}

type jsonCount struct {
	Op Op  `json:"op"`
	N  int `json:"n"`
}

func toJSON(r Rule) jsonRule {
	j := jsonRule{
		Kind: r.Kind, Field: r.Field, Op: r.Op, Value: r.Value, When: r.When,
		At: r.At, Correlate: r.Correlate, Segment: r.Segment,
		Event: matchJSON(r.Event), ThenNot: matchJSON(r.ThenNot),
	}
	for _, c := range r.Children {
		j.Children = append(j.Children, toJSON(c))
	}
	if r.Child != nil {
		c := toJSON(*r.Child)
		j.Child = &c
	}
	if r.Count != nil {
		j.Count = &jsonCount{Op: r.Count.Op, N: r.Count.N}
	}
	if r.Within != 0 {
		j.Within = r.Within.String()
	}
	return j
}

func matchJSON(m *Match) *jsonMatch {
	if m == nil {
		return nil
	}
	j := &jsonMatch{Type: m.Type, Name: m.Name}
	for _, f := range m.Where {
		j.Where = append(j.Where, jsonFilter(f))
	}
	return j
}

// decoder turns the generic JSON value into a Rule, collecting a problem per
// unknown field or wrongly typed value instead of stopping at the first.
type decoder struct {
	problems []Problem
}

func (d *decoder) add(path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Problem: fmt.Sprintf(format, args...)})
}

var kindFields = map[Kind][]string{
	KindAnd:       {"children"},
	KindOr:        {"children"},
	KindNot:       {"child"},
	KindAttribute: {"field", "op", "value"},
	KindEvent:     {"event", "count", "within"},
	KindFirst:     {"event", "when", "at", "within"},
	KindLast:      {"event", "when", "at", "within"},
	KindSequence:  {"event", "then_not", "within", "correlate"},
	KindInactive:  {"within"},
	KindSegment:   {"segment"},
}

func (d *decoder) object(v any, path string, allowed []string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		d.add(path, "must be an object")
		return nil
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys) // problems in a stable order
	for _, key := range keys {
		if !contains(allowed, key) {
			d.add(join(path, key), "unknown field")
		}
	}
	return m
}

func (d *decoder) rule(v any, parent string) Rule {
	m, ok := v.(map[string]any)
	if !ok {
		d.add(parent, "must be an object with a \"kind\"")
		return Rule{}
	}
	kind := Kind(d.str(m, "kind", parent))
	fields, known := kindFields[kind]
	if !known {
		d.add(join(parent, "kind"), "unknown kind %q", string(kind))
		return Rule{Kind: kind}
	}
	path := join(parent, string(kind))
	d.object(m, path, append([]string{"kind"}, fields...))
	r := Rule{
		Kind: kind, Field: d.str(m, "field", path), Op: Op(d.str(m, "op", path)),
		Value: m["value"], When: When(d.str(m, "when", path)), At: d.str(m, "at", path),
		Correlate: d.str(m, "correlate", path), Segment: d.str(m, "segment", path),
		Event: d.match(m, "event", path), ThenNot: d.match(m, "then_not", path),
		Count: d.count(m, path), Within: d.window(m, path),
	}
	d.children(&r, m, path)
	return r
}

func (d *decoder) children(r *Rule, m map[string]any, path string) {
	if c, ok := m["child"]; ok {
		child := d.rule(c, path)
		r.Child = &child
	}
	raw, ok := m["children"]
	if !ok {
		return
	}
	list, ok := raw.([]any)
	if !ok {
		d.add(join(path, "children"), "must be an array")
		return
	}
	for i, c := range list {
		r.Children = append(r.Children, d.rule(c, path+"["+strconv.Itoa(i)+"]"))
	}
}

func (d *decoder) str(m map[string]any, key, path string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.add(join(path, key), "must be a string")
	}
	return s
}

func (d *decoder) window(m map[string]any, path string) Window {
	s := d.str(m, "within", path)
	if s == "" {
		return 0
	}
	w, err := ParseWindow(s)
	if err != nil {
		d.add(join(path, "within"), "%s", err.Error())
	}
	return w
}

func (d *decoder) count(m map[string]any, path string) *Count {
	v, ok := m["count"]
	if !ok {
		return nil
	}
	path = join(path, "count")
	cm := d.object(v, path, []string{"op", "n"})
	c := &Count{Op: Op(d.str(cm, "op", path))}
	n, isNum := cm["n"].(float64)
	if !isNum || n != float64(int(n)) || n < 0 || n > 1e6 {
		// The decoder only bounds the number; Validate applies MaxCount
		// and reports it with the rule's other problems.
		d.add(join(path, "n"), "must be a whole number from 0 to %d", MaxCount)
	}
	c.N = int(n)
	return c
}

func (d *decoder) match(m map[string]any, key, path string) *Match {
	v, ok := m[key]
	if !ok {
		return nil
	}
	path = join(path, key)
	mm := d.object(v, path, []string{"type", "name", "where"})
	out := &Match{Type: d.str(mm, "type", path), Name: d.str(mm, "name", path)}
	raw, ok := mm["where"]
	if !ok {
		return out
	}
	list, ok := raw.([]any)
	if !ok {
		d.add(join(path, "where"), "must be an array")
		return out
	}
	for i, f := range list {
		fp := join(path, "where") + "[" + strconv.Itoa(i) + "]"
		fm := d.object(f, fp, []string{"field", "op", "value"})
		out.Where = append(out.Where, Filter{Field: d.str(fm, "field", fp), Op: Op(d.str(fm, "op", fp)), Value: fm["value"]})
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
