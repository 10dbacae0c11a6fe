package pushmsg

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// template is a parsed template text: literal parts and variables in order.
type template struct {
	parts []part
}

// part is a literal (ns == "") or a variable reference.
type part struct {
	text string // literal text, or the default of a variable
	ns   string // "subscriber" or "event"
	key  string
}

// parseTemplate reads text with {{ ns.key | default: "x" }} tags.
func parseTemplate(text string) (template, error) {
	var t template
	rest := text
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.addLiteral(rest)
			return t, nil
		}
		t.addLiteral(rest[:i])
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return template{}, fmt.Errorf("unclosed {{ at byte %d", len(text)-len(rest)+i)
		}
		p, err := parseTag(rest[i+2 : i+2+j])
		if err != nil {
			return template{}, err
		}
		t.parts = append(t.parts, p)
		rest = rest[i+2+j+2:]
	}
}

func (t *template) addLiteral(s string) {
	if s != "" {
		t.parts = append(t.parts, part{text: s})
	}
}

// parseTag reads the inside of {{ }}: a variable and an optional default.
func parseTag(tag string) (part, error) {
	ref, filter, hasFilter := strings.Cut(tag, "|")
	ref = strings.TrimSpace(ref)
	ns, key, ok := strings.Cut(ref, ".")
	if !ok || (ns != "subscriber" && ns != "event") || !validKey(key) {
		return part{}, fmt.Errorf("{{%s}}: want subscriber.<name> or event.<name>", tag)
	}
	p := part{ns: ns, key: key}
	if !hasFilter {
		return p, nil
	}
	name, arg, ok := strings.Cut(strings.TrimSpace(filter), ":")
	if !ok || strings.TrimSpace(name) != "default" {
		return part{}, fmt.Errorf("{{%s}}: the only filter is default: \"text\"", tag)
	}
	def, err := strconv.Unquote(strings.TrimSpace(arg))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(arg), `"`) {
		return part{}, fmt.Errorf("{{%s}}: the default must be a double-quoted string", tag)
	}
	if strings.Contains(def, "{{") || strings.Contains(def, "}}") {
		return part{}, fmt.Errorf("{{%s}}: the default must not contain {{ or }}", tag)
	}
	p.text = def
	return p, nil
}

// validKey accepts property and attribute names: letters, digits, _ - . : $.
func validKey(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for _, r := range k {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.:$", r)
		if !ok {
			return false
		}
	}
	return true
}

// render writes the template with values from v; esc turns a value
// (never a literal) into its output form, e.g. URL query escaping.
func (t template) render(v Vars, esc func(string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ns == "" {
			b.WriteString(p.text)
			continue
		}
		val, ok := v.lookup(p.ns, p.key)
		if !ok || val == "" {
			val = p.text
		}
		b.WriteString(esc(sanitize(val)))
	}
	return noBraces(b.String())
}

// lookup finds subscriber.<key> (also as attr.<key>) or event.<key>.
func (v Vars) lookup(ns, key string) (string, bool) {
	if ns == "event" {
		val, ok := v.Event[key]
		return val, ok
	}
	if val, ok := v.Subscriber[key]; ok {
		return val, true
	}
	val, ok := v.Subscriber["attr."+key]
	return val, ok
}

// sanitize makes a value safe to insert: at most MaxVarValue bytes (cut on
// a character boundary), control characters as spaces, and no "{{" or "}}"
// so the output never shows template syntax.
func sanitize(s string) string {
	if len(s) > MaxVarValue {
		cut := MaxVarValue
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return noBraces(s)
}

// noBraces breaks every "{{" and "}}" apart, also where a value meets the
// text around it.
func noBraces(s string) string {
	for strings.Contains(s, "{{") || strings.Contains(s, "}}") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "{{", "{ {"), "}}", "} }")
	}
	return s
}
