package segments

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

var equivalenceChecks = flag.Int("equivalence-checks", 2000,
	"(rule, subscriber, instant) checks TestEquivalenceWithClickHouse runs at least (make segments-equivalence: 10000+)")

// TestEquivalenceWithClickHouse is the property test of the three
// evaluators: random worlds (events in disordered arrival, random rules with
// references) are stored in the real ClickHouse; at every instant the compiled
// SQL's members must equal the incremental evaluator's, for every segment and
// subscriber. Mismatches are printed with the direct evaluation's
// explanation. Its last output line is
// "equivalence: checks=N mismatches=M".
func TestEquivalenceWithClickHouse(t *testing.T) {
	ch := testdb.ClickHouse(t)
	checks, mismatches := 0, 0
	var report []string
	for seed := uint64(1000); checks < *equivalenceChecks; seed++ {
		w := newWorld(seed, 10, 300, 10, 24)
		site := uuid.NewString()
		storeWorld(t, ch, site, w)
		set, err := NewSet(w.defs)
		require.NoError(t, err)
		incremental := w.incremental(set)
		rules := map[string]Rule{}
		for _, d := range w.defs {
			rules[d.ID] = d.Rule
		}
		resolve := func(id string) (Rule, bool) { r, ok := rules[id]; return r, ok }
		for i, at := range w.instants {
			for k, id := range set.Segments() {
				sql := sqlMembers(t, ch, rules[id], site, at, resolve)
				for _, s := range w.subs {
					checks++
					inc, db := slices.Contains(incremental[i][k], s), slices.Contains(sql, s)
					if inc == db {
						continue
					}
					mismatches++
					if len(report) < 5 {
						x, err := set.Explain(id, w.eventsOf(s), at)
						require.NoError(t, err)
						report = append(report, fmt.Sprintf("seed %d segment %s: %s\n  subscriber %s at %s: incremental %t, SQL %t\n%s",
							seed, id, Format(rules[id]), s, at.Format(time.RFC3339Nano), inc, db, explainText(x.Rule, "    ")))
					}
				}
			}
		}
	}
	for _, r := range report {
		fmt.Println("mismatch:", r)
	}
	fmt.Printf("equivalence: checks=%d mismatches=%d\n", checks, mismatches)
	if mismatches > 0 {
		t.Fail()
	}
}

func storeWorld(t *testing.T, ch driver.Conn, site string, w *world) {
	t.Helper()
	b, err := ch.PrepareBatch(t.Context(), `INSERT INTO events (event_id, site_id, subscriber_id, type, name,
		time, client_time, server_time, url, props, revenue, browser, os, device_type, language, country, region, city, timezone,
		kafka_topic, kafka_partition, kafka_offset)`)
	require.NoError(t, err)
	for i, e := range w.events {
		id, err := uuid.Parse(e.ID)
		require.NoError(t, err)
		require.NoError(t, b.Append(id, site, sub(&e), e.Type, e.Name, e.Time, e.Time, e.Time, e.URL, e.Props, e.Revenue,
			e.Browser, e.OS, e.DeviceType, e.Language, e.Country, e.Region, e.City, e.Timezone, "equivalence", uint32(0), uint64(i)))
	}
	require.NoError(t, b.Send())
}

func sqlMembers(t *testing.T, ch driver.Conn, r Rule, site string, at time.Time, resolve Resolver) []string {
	t.Helper()
	q, err := CompileWith(r, site, at, resolve)
	require.NoError(t, err, Format(r))
	args := make([]any, 0, len(q.Args))
	for k, v := range q.Args {
		args = append(args, clickhouse.Named(k, v))
	}
	rows, err := ch.Query(t.Context(), q.Query, args...)
	require.NoError(t, err, "%s\n%s", Format(r), q.Query)
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}
