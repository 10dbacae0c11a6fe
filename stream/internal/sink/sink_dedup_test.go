package sink

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestIDWindowEvictsOldest(t *testing.T) {
	w := newIDWindow(3)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for _, id := range ids[:3] {
		w.add(id)
	}
	w.add(ids[0]) // already there: no effect on the order
	require.True(t, w.has(ids[0]))
	w.add(ids[3])
	require.False(t, w.has(ids[0]), "the oldest is forgotten")
	for _, id := range ids[1:] {
		require.True(t, w.has(id))
	}
	require.Len(t, w.ids, 3)
}
