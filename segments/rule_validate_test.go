package segments

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseReportsEveryProblemWithItsPath(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []Problem
	}{
		{
			"window too long", `{"kind":"and","children":[{"kind":"attribute","field":"country","op":"eq","value":"FR"},
			{"kind":"event","event":{"type":"custom","name":"x"},"within":"91d"}]}`,
			[]Problem{{"and[1].event.within", "window 91d is outside 1m to 90d"}},
		},
		{
			"window missing and malformed", `{"kind":"or","children":[{"kind":"inactive"},{"kind":"inactive","within":"7s"}]}`,
			[]Problem{{"or[1].inactive.within", `window "7s": want a number followed by m, h or d`}},
		},
		{
			"unknown fields", `{"kind":"not","colour":1,"shade":2,"child":{"kind":"segment","segment":"s","within":"1h"}}`,
			[]Problem{{"not.colour", "unknown field"}, {"not.shade", "unknown field"}, {"not.segment.within", "unknown field"}},
		},
		{
			"unknown kind", `{"kind":"and","children":[{"kind":"maybe"},{"kind":"inactive","within":"1h"}]}`,
			[]Problem{{"and[0].kind", `unknown kind "maybe"`}},
		},
		{
			"several problems at once", `{"kind":"and","children":[
			{"kind":"attribute","field":"shoe_size","op":"gt","value":"42"},
			{"kind":"attribute","field":"country","op":"in","value":[]},
			{"kind":"attribute","field":"city","op":"regex","value":"(unclosed"}]}`,
			[]Problem{
				{"and[0].attribute.field", "unknown attribute \"shoe_size\": use one of " + strings.Join(AttributeFields, ", ") + " or attr.<name>"},
				{"and[0].attribute.value", "must be a number"},
				{"and[1].attribute.value", "must be a list of 1 to 100 values"},
				{"and[2].attribute.value", "regex does not compile: error parsing regexp: missing closing ): `(unclosed`"},
			},
		},
		{
			"too many in values", `{"kind":"attribute","field":"country","op":"in","value":[` + strings.Repeat(`"x",`, 100) + `"y"]}`,
			[]Problem{{"attribute.value", "must be a list of 1 to 100 values"}},
		},
		{
			"value types per op", `{"kind":"and","children":[
			{"kind":"attribute","field":"attr.plan","op":"contains","value":3},
			{"kind":"attribute","field":"attr.plan","op":"exists","value":true},
			{"kind":"attribute","field":"first_seen","op":"gt","value":5},
			{"kind":"attribute","field":"attr.tags","op":"in","value":[true]}]}`,
			[]Problem{
				{"and[0].attribute.value", "must be a string"},
				{"and[1].attribute.value", "not allowed with exists"},
				{"and[2].attribute.value", `must be an RFC 3339 instant such as "2026-01-02T15:04:05Z"`},
				{"and[3].attribute.value[0]", "must be a string or a number"},
			},
		},
		{
			"event problems", `{"kind":"event","event":{"type":"teleport","where":[{"field":"colour","op":"eq","value":"red"},
			{"field":"props.price","op":"gte","value":"cheap"}]},"count":{"op":"in","n":1.5},"within":"1h"}`,
			[]Problem{{"event.count.n", "must be a whole number from 0 to 1000"}},
		},
		{
			"event problems after decoding", `{"kind":"event","event":{"type":"teleport","where":[{"field":"colour","op":"eq","value":"red"},
			{"field":"props.price","op":"gte","value":"cheap"}]},"count":{"op":"in","n":2},"within":"1h"}`,
			[]Problem{
				{"event.event.type", `unknown event type "teleport"`},
				{"event.event.where[0].field", `unknown event field "colour": use url, revenue or props.<key>`},
				{"event.event.where[1].value", "must be a number"},
				{"event.count.op", "must be eq, neq, gt, gte, lt or lte"},
			},
		},
		{
			"first and sequence", `{"kind":"or","children":[
			{"kind":"first","event":{"type":"page_view"},"when":"before","within":"1d"},
			{"kind":"sequence","event":{"type":"custom","name":"a"},"within":"1h","correlate":"cart id"}]}`,
			[]Problem{
				{"or[0].first.at", `must be an RFC 3339 instant such as "2026-01-02T15:04:05Z"`},
				{"or[0].first.within", `not allowed with when "before"`},
				{"or[1].sequence.then_not", "missing: say which event"},
				{"or[1].sequence.correlate", "must be a property key of letters, digits and _"},
			},
		},
		{
			"segment transitions and count too large", `{"kind":"or","children":[
			{"kind":"event","event":{"type":"segment_entered"},"count":{"op":"gte","n":1001},"within":"1h"},
			{"kind":"sequence","event":{"type":"page_view"},"then_not":{"type":"segment_exited"},"within":"1h"},
			{"kind":"event","event":{"type":"page_view"},"count":{"op":"gte","n":1000},"within":"1h"},
			{"kind":"event","event":{"type":"page_view"},"count":{"op":"eq","n":0},"within":"1h"}]}`,
			[]Problem{
				{"or[0].event.event.type", "segment transitions cannot be matched; reference the segment instead"},
				{"or[0].event.count.n", "must be a whole number from 0 to 1000"},
				{"or[1].sequence.then_not.type", "segment transitions cannot be matched; reference the segment instead"},
			},
		},
		{
			"groups need two", `{"kind":"and","children":[{"kind":"inactive","within":"1h"}]}`,
			[]Problem{{"and.children", "and needs at least two conditions"}},
		},
		{
			"wrong JSON types", `{"kind":"segment","segment":7}`,
			[]Problem{{"segment.segment", "must be a string"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			var perr *Error
			require.True(t, errors.As(err, &perr), "want *Error, got %v", err)
			require.Equal(t, tt.want, perr.Problems)
		})
	}
}

func TestValidateLimits(t *testing.T) {
	leaf := Rule{Kind: KindInactive, Within: MinWindow}
	deep := leaf
	for range MaxDepth {
		child := deep
		deep = Rule{Kind: KindNot, Child: &child}
	}
	require.Equal(t, []Problem{{"not.not.not.not.not.not.not.not.inactive", "nesting deeper than the limit of 8"}}, Validate(deep))

	wide := Rule{Kind: KindOr}
	for range MaxConditions + 1 {
		wide.Children = append(wide.Children, leaf)
	}
	require.Equal(t, []Problem{{"or", "has 65 conditions, more than the limit of 64"}}, Validate(wide))
	wide.Children = wide.Children[:MaxConditions]
	require.Empty(t, Validate(wide))
}

func TestValidateRefusesFieldsOfAnotherKind(t *testing.T) {
	r := Rule{Kind: KindInactive, Within: MaxWindow, Field: "country"}
	require.Equal(t, []Problem{{"inactive.field", "not allowed in a condition of kind inactive"}}, Validate(r))
}

func TestParseTextReportsPosition(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{`country = "FR" and`, `segment rule text 1:19: expected a condition, found end of text`},
		{`country ~ "FR"`, `segment rule text 1:9: unexpected character '~'`},
		{"country = \"FR\"\nand event x within 7x", `segment rule text 2:20: expected a window such as 7d, 1h or 30m, found "7x"`},
		{`event x within 1h)`, `segment rule text 1:18: expected and, or, or the end of the rule, found ")"`},
		{`(country = "FR"`, `segment rule text 1:16: expected ")", found end of text`},
		{`city = "unterminated`, `segment rule text 1:8: string not closed`},
		{`sequence event a not event b within 1h`, `segment rule text 1:18: expected "then", found "not"`},
		{`attr.n > 1e999`, `segment rule text 1:10: expected a value: a "string", a number, true or false, found "1e999"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseText(tt.text)
			var terr *TextError
			require.True(t, errors.As(err, &terr), "want *TextError, got %v", err)
			require.Equal(t, tt.want, err.Error())
		})
	}
}

func TestParseTextValidates(t *testing.T) {
	_, err := ParseText(`event add_to_cart within 100d`)
	require.EqualError(t, err, "invalid segment rule: event.within: window 100d is outside 1m to 90d")
}
