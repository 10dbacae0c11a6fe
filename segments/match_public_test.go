package segments

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchMatches(t *testing.T) {
	cart := &Event{Type: "custom", Name: "add_to_cart", URL: "https://shop.example/p/1", Revenue: 0, Props: map[string]string{"cart_id": "c1"}}
	buy := &Event{Type: "conversion", Name: "purchase", Revenue: 42}
	tests := []struct {
		name string
		m    Match
		e    *Event
		want bool
	}{
		{"type and name", Match{Type: "custom", Name: "add_to_cart"}, cart, true},
		{"other name", Match{Type: "custom", Name: "checkout"}, cart, false},
		{"any name", Match{Type: "custom"}, cart, true},
		{"other type", Match{Type: "conversion"}, cart, false},
		{"prop filter", Match{Type: "custom", Where: []Filter{{Field: "props.cart_id", Op: OpEq, Value: "c1"}}}, cart, true},
		{"prop filter fails", Match{Type: "custom", Where: []Filter{{Field: "props.cart_id", Op: OpEq, Value: "c2"}}}, cart, false},
		{"missing prop", Match{Type: "conversion", Where: []Filter{{Field: "props.cart_id", Op: OpExists}}}, buy, false},
		{"url filter", Match{Type: "custom", Where: []Filter{{Field: "url", Op: OpContains, Value: "/p/"}}}, cart, true},
		{"revenue filter", Match{Type: "conversion", Where: []Filter{{Field: "revenue", Op: OpGt, Value: float64(10)}}}, buy, true},
		{"revenue filter fails", Match{Type: "conversion", Where: []Filter{{Field: "revenue", Op: OpGt, Value: float64(50)}}}, buy, false},
		{"invalid regex matches nothing", Match{Type: "custom", Where: []Filter{{Field: "url", Op: OpRegex, Value: "("}}}, cart, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.m.Matches(tt.e))
			c, err := tt.m.Compile()
			if err == nil {
				require.Equal(t, tt.want, c.Matches(tt.e))
			}
		})
	}
	_, err := Match{Type: "custom", Where: []Filter{{Field: "url", Op: OpRegex, Value: "("}}}.Compile()
	require.Error(t, err)
}
