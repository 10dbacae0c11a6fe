package automate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/segments"
)

func TestMatcherSelectsByTypeNameAndFilters(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := newMatcher(&segments.Match{
		Type: "custom", Name: "add_to_cart",
		Where: []segments.Filter{{Field: "props.price", Op: segments.OpGt, Value: 10.0}},
	})
	require.NoError(t, err)
	tests := []struct {
		name string
		ev   segments.Event
		want bool
	}{
		{"matching", segments.Event{ID: "1", Type: "custom", Name: "add_to_cart", Time: at, Props: map[string]string{"price": "12"}}, true},
		{"filter fails", segments.Event{ID: "2", Type: "custom", Name: "add_to_cart", Time: at, Props: map[string]string{"price": "5"}}, false},
		{"prop missing", segments.Event{ID: "3", Type: "custom", Name: "add_to_cart", Time: at}, false},
		{"other name", segments.Event{ID: "4", Type: "custom", Name: "purchase", Time: at, Props: map[string]string{"price": "12"}}, false},
		{"other type", segments.Event{ID: "5", Type: "page_view", Time: at, Props: map[string]string{"price": "12"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, m.matches(&tt.ev))
		})
	}
	var none *matcher
	require.False(t, none.matches(&tests[0].ev), "a nil matcher matches nothing")
}
