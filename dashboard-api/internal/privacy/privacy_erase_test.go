package privacy

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

func TestEraseRemovesTheSubscriberEverywhereOnlyThere(t *testing.T) {
	w := newWorld(t)
	ada, bob, adaB := Subject{w.a, "ada"}, Subject{w.a, "bob"}, Subject{w.b, "ada"}
	for _, s := range []Subject{ada, bob, adaB} {
		w.seed(t, s)
	}
	erased, err := w.store.Erase(t.Context(), ada)
	require.NoError(t, err)
	for table, n := range seeded {
		switch table {
		case "scheduled_sends", "dispatch_log", "automation_entries", "push_deliveries":
			require.EqualValues(t, n, erased.Postgres[table], table)
		default:
			require.EqualValues(t, n, erased.ClickHouse[table], table)
		}
	}
	require.EqualValues(t, 1, erased.PendingSendsCancelled)

	none := map[string]int{}
	for table := range seeded {
		none[table] = 0
	}
	require.Equal(t, none, w.rowCounts(t, ada))
	exists, err := w.store.Exists(t.Context(), ada)
	require.NoError(t, err)
	require.False(t, exists)
	for _, other := range []Subject{bob, adaB} {
		require.Equal(t, map[string]int(nil), diff(seeded, w.rowCounts(t, other)), other)
	}

	again, err := w.store.Erase(t.Context(), ada)
	require.NoError(t, err)
	require.Zero(t, again.Total(), "erasure is idempotent")

	// The evaluator learns of it from the events topic, keyed like ada's events.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: w.brokers, Topic: w.topic, Partition: 0})
	t.Cleanup(func() { _ = r.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	m, err := r.ReadMessage(ctx)
	require.NoError(t, err)
	var e schemas.Event
	require.NoError(t, json.Unmarshal(m.Value, &e))
	require.Equal(t, schemas.EventSubscriberErased, e.Type)
	require.Equal(t, ada.SiteID+":ada", string(m.Key))
	require.Equal(t, "ada", e.SubscriberID)
}
