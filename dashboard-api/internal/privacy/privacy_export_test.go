package privacy

import (
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// peakWriter counts what is written and samples the live heap (after a
// collection) every 16 MiB.
type peakWriter struct {
	n, nextSample int64
	peak          uint64
}

func (w *peakWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n >= w.nextSample {
		w.nextSample = w.n + 16<<20
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		w.peak = max(w.peak, m.HeapAlloc)
	}
	return len(p), nil
}

// TestExportOfAMillionEventsStreams: a subscriber with 1,000,000 events
// (100,000 under the race detector) is exported whole while the live heap
// stays far below the document's size, so the events are streamed, not
// collected.
func TestExportOfAMillionEventsStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts and exports up to 1,000,000 events")
	}
	n := 1_000_000
	if raceDetector {
		n = 100_000 // 40 times slower: a million would outlast ClickHouse's read timeout
	}
	w := newWorld(t)
	sub := Subject{w.a, "heavy"}
	start := time.Now().UTC().Add(-30 * 24 * time.Hour)
	for from := 0; from < n; from += 100_000 {
		b, err := w.store.ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, time,
			client_time, server_time, url, title, kafka_topic, kafka_partition, kafka_offset)`)
		require.NoError(t, err)
		for i := from; i < from+100_000; i++ {
			at := start.Add(time.Duration(i) * time.Second)
			require.NoError(t, b.Append(uuid.New(), sub.SiteID, sub.SubscriberID, "page_view", at, at, at,
				"https://shop.example/products/some-long-product-page", "A product page", "test", uint32(0), uint64(i)))
		}
		require.NoError(t, b.Send())
	}
	t.Cleanup(func() { _, _ = w.store.Erase(t.Context(), sub) })

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	out := &peakWriter{}
	began := time.Now()
	require.NoError(t, w.store.Export(t.Context(), sub, out))
	grew := int64(out.peak) - int64(base.HeapAlloc)
	t.Logf("exported %d MiB in %s; live heap grew by at most %d MiB", out.n>>20, time.Since(began), grew>>20)
	require.Greater(t, out.n, int64(n*200), "every event is in the document")
	require.Less(t, grew, min(int64(64<<20), out.n/4), "the heap holds a block of rows, not the events")
}
