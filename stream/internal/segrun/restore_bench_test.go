package segrun

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

// TestBenchRestore measures what a restore costs: one partition's stored
// events replayed from the real ClickHouse into fresh states (PUSHPIPE_BENCH_RESTORE=1;
// PUSHPIPE_BENCH_RESTORE_EVENTS sets the size, default 1,000,000). It prints
// `restore-detail:` lines; the reference beside it is a bare scan of the same
// rows (ClickHouse and the driver alone).
func TestBenchRestore(t *testing.T) {
	if os.Getenv("PUSHPIPE_BENCH_RESTORE") != "1" {
		t.Skip("a benchmark: set PUSHPIPE_BENCH_RESTORE=1")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PUSHPIPE_BENCH_RESTORE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ch := testdb.ClickHouse(t)
	site, topic := uuid.NewString(), "bench-restore-"+uuid.NewString()[:8]
	start := time.Now().Add(-80 * 24 * time.Hour).Truncate(time.Millisecond)
	const subs = 50_000
	for off := 0; off < n; off += 100_000 {
		b, err := ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name, time,
			client_time, server_time, url, props, country, browser, kafka_topic, kafka_partition, kafka_offset)`)
		require.NoError(t, err)
		for i := off; i < min(off+100_000, n); i++ {
			at := start.Add(time.Duration(i) * 80 * 24 * time.Hour / time.Duration(n))
			typ, name := "page_view", ""
			if i%5 == 0 {
				typ, name = "custom", "add_to_cart"
			}
			require.NoError(t, b.Append(uuid.New(), site, "s"+strconv.Itoa(i%subs), typ, name, at, at, at,
				"https://shop.test/p/"+strconv.Itoa(i%100), map[string]string{"cart_id": strconv.Itoa(i % 7)},
				[]string{"FR", "DE", "US"}[i%3], "Chrome", topic, uint32(0), uint64(i)))
		}
		require.NoError(t, b.Send())
	}
	defs := &fakeDefs{}
	for i := range 20 {
		defs.add(t, fmt.Sprintf("s%02d-a", i), fmt.Sprintf(`event page_view count >= %d within %dd and country = "FR"`, 1+i%5, 1+i))
		defs.add(t, fmt.Sprintf("s%02d-b", i), fmt.Sprintf(`sequence event add_to_cart then not event conversion within %dh correlate "cart_id"`, 1+i))
		defs.add(t, fmt.Sprintf("s%02d-c", i), fmt.Sprintf(`inactive within %dd`, 1+i))
		defs.add(t, fmt.Sprintf("s%02d-d", i), fmt.Sprintf(`last event add_to_cart within %dh or browser = "Firefox"`, 1+i))
		defs.add(t, fmt.Sprintf("s%02d-e", i), fmt.Sprintf(`first event page_view where url contains "/p/%d" within 90d`, i))
	}
	for i := range defs.segs {
		defs.segs[i].SiteID = site
	}

	t0 := time.Now()
	rows, err := ch.Query(t.Context(), `SELECT site_id, subscriber_id, toString(event_id), type, name, time, url, revenue, props,
		browser, os, device_type, language, country, region, city FROM events
		WHERE kafka_topic = ? AND kafka_partition = 0 ORDER BY site_id, subscriber_id, time`, topic)
	require.NoError(t, err)
	scanned := 0
	for rows.Next() {
		var a, b, c, d, e, url, br, os, dt, lang, co, re, ci string
		var at time.Time
		var rev float64
		var props map[string]string
		require.NoError(t, rows.Scan(&a, &b, &c, &d, &e, &at, &url, &rev, &props, &br, &os, &dt, &lang, &co, &re, &ci))
		scanned++
	}
	require.NoError(t, rows.Close())
	scan := time.Since(t0)

	h := newHarness(t, defs, &fakeLog{}, time.Now())
	h.rt.store = NewClickHouse(ch)
	h.rt.cfg.Topic = topic
	h.rt.log = slog.New(slog.DiscardHandler)
	o := newOwner(h.rt, 0)
	o.sites = map[string]*siteState{}
	t1 := time.Now()
	_, err = o.restore(t.Context(), int64(n))
	require.NoError(t, err)
	restore := time.Since(t1)
	subsRestored := len(o.sites[site].subs)
	fmt.Printf("restore-detail: %d stored events of %d subscribers, 100 segments: restore %.1fs (%.0f events/s); reference, bare scan of the same rows %.1fs (%.0f rows/s)\n",
		n, subsRestored, restore.Seconds(), float64(n)/restore.Seconds(), scan.Seconds(), float64(scanned)/scan.Seconds())
	require.Equal(t, n, scanned)
	require.Equal(t, subs, subsRestored)
}
