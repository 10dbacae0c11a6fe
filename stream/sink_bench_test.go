package stream

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestBenchSink measures the sink end to end (PUSHPIPE_BENCH_SINK=1;
// PUSHPIPE_BENCH_SINK_EVENTS, default 200,000): events already on a private
// topic, the stream role started, rows per second until every one is
// stored (fetch, decode, batch, insert with the dedup token, commit). The
// reference in the same run: the same rows (the columns these events set)
// inserted by a bare clickhouse-go batch of 5,000 rows at a time, no Kafka.
// It prints `sink-bench: …`.
func TestBenchSink(t *testing.T) {
	if os.Getenv("PUSHPIPE_BENCH_SINK") != "1" {
		t.Skip("a benchmark: set PUSHPIPE_BENCH_SINK=1")
	}
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("PUSHPIPE_BENCH_SINK_EVENTS")); err == nil && v > 0 {
		n = v
	}
	st := newStack(t)
	site := uuid.NewString()
	evs := newEvents(site, n)
	for i := 0; i < n; i += 10_000 {
		st.produce(t, evs[i:min(i+10_000, n)]...)
	}

	start := time.Now()
	run := st.start(t, testConfig(t, 5000), nil)
	require.Eventually(t, func() bool {
		var stored uint64
		err := st.ch.QueryRow(t.Context(), `SELECT count() FROM events WHERE site_id = ?`, site).Scan(&stored)
		return err == nil && stored >= uint64(n)
	}, 10*time.Minute, 20*time.Millisecond)
	sinkTime := time.Since(start)
	require.NoError(t, run.stop())

	raw := uuid.NewString()
	start = time.Now()
	for i := 0; i < n; i += 5000 {
		b, err := st.ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type,
			time, client_time, server_time, url, props, kafka_topic, kafka_partition, kafka_offset)`)
		require.NoError(t, err)
		for j := i; j < min(i+5000, n); j++ {
			e := evs[j]
			require.NoError(t, b.Append(uuid.MustParse(e.EventID), raw, e.SubscriberID, string(e.Type),
				e.Time, e.ClientTime, e.ServerTime, e.URL, e.Props, "bench-raw", uint32(0), uint64(j)))
		}
		require.NoError(t, b.Send())
	}
	rawTime := time.Since(start)
	sinkRate, rawRate := float64(n)/sinkTime.Seconds(), float64(n)/rawTime.Seconds()
	fmt.Printf("sink-bench: events=%d sink_rows_per_s=%.0f raw_clickhouse_go_rows_per_s=%.0f ratio=%.2f\n",
		n, sinkRate, rawRate, sinkRate/rawRate)
}
