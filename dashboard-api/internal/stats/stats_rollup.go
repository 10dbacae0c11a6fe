package stats

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// rollupMargin is how long after the rollup's epoch its hours are trusted:
// an event stored before the materialized view existed may carry a time a
// little after it (clock correction), never an hour.
const rollupMargin = time.Hour

// epochs caches the rollup epoch of a connection: it is written once by the
// migration and never moves later, so once read it stays true.
type epochs struct {
	mu    sync.Mutex
	since time.Time
	known bool
}

// rollupSince returns the first instant events_hourly is complete from, or
// the far future when the rollup is not there (no epoch stored) or not to be
// used.
func (c *ClickHouse) rollupSince(ctx context.Context) (time.Time, error) {
	never := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if c.raw {
		return never, nil
	}
	c.epoch.mu.Lock()
	defer c.epoch.mu.Unlock()
	if c.epoch.known {
		return c.epoch.since, nil
	}
	var (
		n     uint64
		since time.Time
	)
	err := c.conn.QueryRow(ctx, `SELECT count(), min(since) FROM rollup_epoch WHERE name = 'events_hourly'`).Scan(&n, &since)
	if err != nil {
		return never, fmt.Errorf("query rollup epoch: %w", err)
	}
	if n == 0 {
		return never, nil
	}
	c.epoch.since, c.epoch.known = since.Add(rollupMargin), true
	return c.epoch.since, nil
}

// span splits a range for a query that reads events_hourly: [A, B) from the
// rollup, [From, A) and [B, To) from the raw events. A == B when the rollup
// cannot answer any of it exactly.
type span struct{ A, B time.Time }

// splitRange picks the whole UTC hours of q the rollup can answer: after its
// epoch, inside [From, To), and only when every bucket starts on a UTC hour
// (so no rollup hour straddles two buckets: zones with half-hour offsets are
// read raw).
func splitRange(q OverviewQuery, since time.Time) span {
	none := span{q.From, q.From}
	for _, b := range q.Buckets {
		if b.Unix()%3600 != 0 {
			return none
		}
	}
	from := q.From
	if since.After(from) {
		from = since
	}
	a := from.UTC().Truncate(time.Hour)
	if a.Before(from) {
		a = a.Add(time.Hour)
	}
	b := q.To.UTC().Truncate(time.Hour)
	if !a.Before(b) {
		return none
	}
	return span{a, b}
}

// uniqueSpans splits a range for distinct counts, which need no buckets:
// the whole UTC hours after the epoch (s, read from events_hourly), and
// within them the whole UTC days (days, read from events_daily_uniq; A == B
// when there are none).
func uniqueSpans(q OverviewQuery, since time.Time) (s, days span) {
	s = splitRange(OverviewQuery{From: q.From, To: q.To}, since)
	d1 := s.A.Truncate(24 * time.Hour)
	if d1.Before(s.A) {
		d1 = d1.Add(24 * time.Hour)
	}
	d2 := s.B.Truncate(24 * time.Hour)
	if !d1.Before(d2) {
		return s, span{s.A, s.A}
	}
	return s, span{d1, d2}
}

// spanWhere scopes the raw side of a split query: the site and the parts of
// the range outside [A, B).
const spanWhere = `site_id = {site:String} AND ((time >= {from:DateTime64(3)} AND time < {a:DateTime64(3)})
	OR (time >= {b:DateTime64(3)} AND time < {to:DateTime64(3)}))`

// rollupWhere scopes the rollup side of a split query.
const rollupWhere = `site_id = {site:String} AND hour >= {a:DateTime64(3)} AND hour < {b:DateTime64(3)}`

// spanParams are the parameters of spanWhere and rollupWhere, plus the zone.
func spanParams(q OverviewQuery, s span) []any {
	return append(rangeParams(q),
		clickhouse.DateNamed("a", s.A, clickhouse.MilliSeconds),
		clickhouse.DateNamed("b", s.B, clickhouse.MilliSeconds),
		clickhouse.Named("tz", zone(q)),
	)
}

// withZone is q with UTC for a nil Location.
func (q OverviewQuery) withZone() OverviewQuery {
	if q.Location == nil {
		q.Location = time.UTC
	}
	return q
}

func zone(q OverviewQuery) string {
	if q.Location == nil {
		return "UTC"
	}
	return q.Location.String()
}

// bucketOf is the SQL of the start of the bucket holding column col, as
// Unix seconds.
func bucketOf(col string, iv Interval) string {
	return `toInt64(toUnixTimestamp(toDateTime(toStartOfInterval(` + col + `, ` + iv.sqlInterval() + `, {tz:String}), {tz:String})))`
}
