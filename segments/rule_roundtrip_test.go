package segments

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireRoundTrips checks that a valid rule survives both its JSON and its
// text form unchanged.
func requireRoundTrips(t *testing.T, r Rule) {
	t.Helper()
	require.Empty(t, Validate(r), "generated rule must be valid: %s", Format(r))
	data, err := json.Marshal(r)
	require.NoError(t, err)
	fromJSON, err := Parse(data)
	require.NoError(t, err, "json: %s", data)
	require.Equal(t, r, fromJSON, "json: %s", data)
	text := Format(r)
	fromText, err := ParseText(text)
	require.NoError(t, err, "text: %s", text)
	require.Equal(t, r, fromText, "text: %s", text)
}

func TestHandWrittenRulesRoundTrip(t *testing.T) {
	texts := []string{
		`country in ("FR", "DE") and event add_to_cart where props.price > 50 count >= 2 within 7d and not event purchase within 1h`,
		`country = "FR"`,
		`attr.plan exists`,
		`not attr.plan exists`,
		`browser != "Safari" or os starts_with "Mac"`,
		`city contains "Par" and region regex "^Île"`,
		`attr.vip = true or attr.score <= -1.5e+06`,
		`first_seen < "2026-01-02T15:04:05Z" and last_seen >= "2026-11-01T00:00:00+01:00"`,
		`event page_view where url contains "/pricing" within 30m`,
		`event custom "add to cart" where props.cart_id = "c1", revenue >= 10 count = 0 within 90d`,
		`event custom "page_view" within 1m`,
		`event custom within 1d`,
		`event conversion "signup" within 2h`,
		`first event signup within 7d`,
		`last event purchase before "2026-01-01T00:00:00Z"`,
		`first event page_view after "2025-06-30T12:00:00Z"`,
		`sequence event add_to_cart then not event purchase within 1h correlate "cart_id"`,
		`sequence event page_view where url starts_with "/checkout" then not event conversion within 30m`,
		`inactive within 30d`,
		`segment "0195a3c2-7b1e-7c00-8000-000000000001"`,
		`(country = "FR" or country = "DE") and (language = "fr" or not (timezone = "UTC" and status = "subscribed"))`,
		`(attr.a = 1 and attr.b = 2) and attr.c = 3`,
		`(attr.a = 1 or attr.b = 2) or attr.c = 3`,
		`attr.a = 1 and attr.b = 2 or attr.c = 3`,
		`not not inactive within 1h`,
		`device_type in ("mobile", 3) and attr.n in (1, 2.5, -0.25)`,
	}
	for _, text := range texts {
		t.Run(text, func(t *testing.T) {
			r, err := ParseText(text)
			require.NoError(t, err)
			require.Equal(t, text, Format(r), "Format must give back the canonical text")
			requireRoundTrips(t, r)
		})
	}
}

func TestGeneratedRulesRoundTrip(t *testing.T) {
	g := newRuleGen(20261129)
	for i := range 3000 {
		r := g.rule(1 + i%3)
		requireRoundTrips(t, r)
	}
}

func TestTextPrecedence(t *testing.T) {
	r, err := ParseText(`attr.a = 1 and attr.b = 2 or not attr.c = 3 and attr.d = 4`)
	require.NoError(t, err)
	require.Equal(t, KindOr, r.Kind)
	require.Len(t, r.Children, 2)
	require.Equal(t, KindAnd, r.Children[0].Kind)
	require.Equal(t, KindAnd, r.Children[1].Kind)
	require.Equal(t, KindNot, r.Children[1].Children[0].Kind)
}

func TestJSONShape(t *testing.T) {
	r, err := ParseText(`event add_to_cart where props.price > 50 count >= 2 within 7d and not segment "s1"`)
	require.NoError(t, err)
	data, err := json.Marshal(r)
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"and","children":[
		{"kind":"event","event":{"type":"custom","name":"add_to_cart",
			"where":[{"field":"props.price","op":"gt","value":50}]},
		 "count":{"op":"gte","n":2},"within":"7d"},
		{"kind":"not","child":{"kind":"segment","segment":"s1"}}]}`, string(data))
}

func TestWindowText(t *testing.T) {
	for in, want := range map[string]string{"60m": "1h", "48h": "2d", "90d": "90d", "90m": "90m", "1440m": "1d"} {
		w, err := ParseWindow(in)
		require.NoError(t, err)
		require.Equal(t, want, w.String())
	}
	for _, bad := range []string{"", "d", "7", "7s", "-1d", "0h", "1.5h", "7 d", "200000000000d"} {
		_, err := ParseWindow(bad)
		require.Error(t, err, bad)
	}
}
