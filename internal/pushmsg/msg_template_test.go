package pushmsg

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplateRendersValuesAndDefaults(t *testing.T) {
	v := Vars{
		Subscriber: map[string]string{"first_name": "Ada", "attr.plan": "pro", "country": "FR", "empty": ""},
		Event:      map[string]string{"cart_id": "c-42", "name": "add_to_cart"},
	}
	tests := []struct {
		name, text, want string
	}{
		{"plain text", "Hello", "Hello"},
		{"subscriber value", "Hi {{ subscriber.first_name }}!", "Hi Ada!"},
		{"no spaces", "Hi {{subscriber.first_name}}", "Hi Ada"},
		{"attr fallback", "{{ subscriber.plan }}", "pro"},
		{"attr explicit", "{{ subscriber.attr.plan }}", "pro"},
		{"event value", "cart {{ event.cart_id }}", "cart c-42"},
		{"missing with default", "Hi {{ subscriber.nick | default: \"there\" }}", "Hi there"},
		{"empty value takes default", "{{ subscriber.empty | default: \"x\" }}", "x"},
		{"missing without default", "Hi {{ event.nope }}.", "Hi ."},
		{"default with escapes", `{{ event.nope | default: "a \"b\"" }}`, `a "b"`},
		{"present ignores default", `{{ subscriber.country | default: "US" }}`, "FR"},
		{"two tags", "{{subscriber.first_name}}{{event.cart_id}}", "Adac-42"},
		{"closing braces alone stay text", "a } b", "a } b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := parseTemplate(tt.text)
			require.NoError(t, err)
			require.Equal(t, tt.want, tpl.render(v, plain))
		})
	}
}

func TestTemplateRefusesBadSyntax(t *testing.T) {
	for _, text := range []string{
		"Hi {{ subscriber.first_name",
		"{{ }}",
		"{{ first_name }}",
		"{{ user.first_name }}",
		"{{ subscriber. }}",
		"{{ subscriber.a b }}",
		`{{ subscriber.a | upper }}`,
		`{{ subscriber.a | default: there }}`,
		`{{ subscriber.a | default: "{{x" }}`,
		"{{{ subscriber.a }}",
	} {
		t.Run(text, func(t *testing.T) {
			_, err := parseTemplate(text)
			require.Error(t, err)
		})
	}
}

// A value never makes the output show template syntax, whatever it holds.
func TestTemplateNeverOutputsBraces(t *testing.T) {
	v := Vars{Event: map[string]string{"a": "{{ subscriber.x }}", "open": "{", "close": "}", "ctl": "a\x00b\nc"}}
	tests := []struct{ name, text string }{
		{"value with a tag", "{{ event.a }}"},
		{"value meets value", "{{ event.open }}{{ event.open }}"},
		{"value meets literal", "{{ event.close }}} x"},
		{"default meets value", `{{ event.nope | default: "{" }}{{ event.open }}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := parseTemplate(tt.text)
			require.NoError(t, err)
			out := tpl.render(v, plain)
			require.NotContains(t, out, "{{")
			require.NotContains(t, out, "}}")
		})
	}
	tpl, err := parseTemplate("{{ event.ctl }}")
	require.NoError(t, err)
	require.Equal(t, "a b c", tpl.render(v, plain), "control characters become spaces")
}

func TestSanitizeCutsLongValuesOnCharacterBoundary(t *testing.T) {
	long := strings.Repeat("é", MaxVarValue) // 2 bytes each
	got := sanitize(long)
	require.LessOrEqual(t, len(got), MaxVarValue)
	require.Equal(t, strings.Repeat("é", MaxVarValue/2), got)
	require.Equal(t, "short", sanitize("short"))
}
