package stats

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/chx"
	"github.com/pushpipe/pushpipe/internal/testkit"
)

func openClickHouse(t *testing.T) driver.Conn {
	t.Helper()
	dsn := testkit.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := chx.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// instants returns moments every 97 minutes around the 2024 DST changes of
// the northern and southern hemispheres, plus one per 5 days over a year.
func instants() []int64 {
	var out []int64
	for _, center := range []time.Time{
		time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC),  // US spring forward
		time.Date(2024, 3, 31, 1, 0, 0, 0, time.UTC),  // EU spring forward
		time.Date(2024, 4, 6, 15, 0, 0, 0, time.UTC),  // Australia falls back
		time.Date(2024, 10, 27, 1, 0, 0, 0, time.UTC), // EU falls back
		time.Date(2024, 11, 3, 6, 0, 0, 0, time.UTC),  // US falls back
	} {
		for d := -36 * time.Hour; d <= 36*time.Hour; d += 97 * time.Minute {
			out = append(out, center.Add(d).UnixMilli())
		}
	}
	for t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); t.Year() == 2024; t = t.Add(5*24*time.Hour + 7*time.Hour) {
		out = append(out, t.UnixMilli())
	}
	return out
}

// TestBucketStartsAgreeWithClickHouse holds the Go bucket list (which makes
// the zero-filled series) to ClickHouse's toStartOfInterval (which counts),
// for every interval in zones with DST, half- and quarter-hour offsets.
func TestBucketStartsAgreeWithClickHouse(t *testing.T) {
	conn := openClickHouse(t)
	ctx := context.Background()
	ts := instants()
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"}
	for _, zone := range zones {
		loc := mustZone(t, zone)
		for _, iv := range Intervals() {
			query := `SELECT arrayMap(x -> toInt64(toUnixTimestamp(toDateTime(toStartOfInterval(fromUnixTimestamp64Milli(x, 'UTC'), ` +
				iv.sqlInterval() + `, {tz:String}), {tz:String}))), {ts:Array(Int64)})`
			var got []int64
			require.NoError(t, conn.QueryRow(ctx, query, clickhouse.Named("tz", zone), clickhouse.Named("ts", ts)).Scan(&got))
			require.Len(t, got, len(ts))
			for i, ms := range ts {
				at := time.UnixMilli(ms)
				want := iv.Start(at, loc).Unix()
				require.Equal(t, want, got[i], "%s %s at %s: Go %s, ClickHouse %s", zone, iv, at.UTC(),
					time.Unix(want, 0).In(loc), time.Unix(got[i], 0).In(loc))
			}
		}
	}
}
