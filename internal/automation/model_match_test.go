package automation

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/segments"
)

func TestMatchJSONIsTheSegmentRuleForm(t *testing.T) {
	m := &segments.Match{Type: "custom", Name: "add_to_cart", Where: []segments.Filter{
		{Field: "props.cart_id", Op: segments.OpExists},
		{Field: "revenue", Op: segments.OpGte, Value: float64(10)},
	}}
	raw, err := marshalMatch(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"custom","name":"add_to_cart","where":[{"field":"props.cart_id","op":"exists"},{"field":"revenue","op":"gte","value":10}]}`, string(raw))
	back, problems := parseMatch(raw, "x")
	require.Empty(t, problems)
	require.Equal(t, m, back)

	none, err := marshalMatch(nil)
	require.NoError(t, err)
	require.Nil(t, none)
	got, problems := parseMatch(json.RawMessage("null"), "x")
	require.Nil(t, got)
	require.Empty(t, problems)
}

func TestParseMatchProblemsCarryThePath(t *testing.T) {
	tests := []struct {
		raw   string
		paths []string
	}{
		{`{"type": "nope"}`, []string{"p.type"}},
		{`{"type": "custom", "extra": 1}`, []string{"p.extra"}},
		{`{"type": "custom", "where": [{"field": "city", "op": "eq", "value": "x"}]}`, []string{"p.where[0].field"}},
		{`"custom"`, []string{"p"}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, problems := parseMatch(json.RawMessage(tt.raw), "p")
			paths := make([]string, len(problems))
			for i, p := range problems {
				paths[i] = p.Path
			}
			require.Equal(t, tt.paths, paths, "%v", problems)
		})
	}
}
