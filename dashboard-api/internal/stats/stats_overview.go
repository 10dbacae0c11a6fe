package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"
)

// OverviewQuery asks for one site's activity in [From, To).
type OverviewQuery struct {
	SiteID   string
	From, To time.Time
	Interval Interval
	Location *time.Location // buckets are local days, weeks... of this zone; nil is UTC
	Buckets  []time.Time    // bucket starts to zero-fill, from Buckets(From, To, Interval, Location, ...)
}

// Overview is one site's activity in a time range.
type Overview struct {
	Series         []Bucket          // every bucket of the query, in order, zero-filled
	Totals         map[string]uint64 // events by type over the range
	UniqueVisitors uint64            // distinct subscribers with a page view in the range
	Subscribers    Subscribers
	Revenue        float64 // sum of the revenue of the conversions in the range (currencies are not converted)
}

// Bucket is the event counts by type of one time bucket. Counts has a key
// for every type in Totals, zero when the bucket had none of that type.
type Bucket struct {
	Start  time.Time
	Counts map[string]uint64
}

// Subscribers is subscriber growth.
type Subscribers struct {
	Total        uint64 // subscribed now, whatever the range
	New          uint64 // distinct subscribers with a subscribed event in the range
	Unsubscribed uint64 // distinct subscribers with an unsubscribed event in the range
	Lost         uint64 // distinct subscribers who unsubscribed or whose subscription expired in the range
}

// ClickHouse answers stats queries from the events and subscribers tables,
// and from the events_hourly rollup where it holds the answer (see
// splitRange).
type ClickHouse struct {
	conn  driver.Conn
	raw   bool    // never read the rollups
	epoch *epochs // shared by copies
}

// NewClickHouse queries through conn.
func NewClickHouse(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn, epoch: &epochs{}} }

// WithoutRollups is a copy of c that reads only the raw events: the
// reference the rollups are measured against.
func (c *ClickHouse) WithoutRollups() *ClickHouse {
	cp := *c
	cp.raw = true
	return &cp
}

// Overview runs the overview queries concurrently.
func (c *ClickHouse) Overview(ctx context.Context, q OverviewQuery) (Overview, error) {
	q = q.withZone()
	since, err := c.rollupSince(ctx)
	if err != nil {
		return Overview{}, err
	}
	s := splitRange(q, since)
	us, days := uniqueSpans(q, since)
	var (
		counts []typeCount
		uniq   rangeUniques
		total  uint64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { counts, err = c.counts(gctx, q, s); return err })
	g.Go(func() (err error) { uniq, err = c.uniques(gctx, q, us, days); return err })
	g.Go(func() (err error) { total, err = c.subscribed(gctx, q.SiteID); return err })
	if err := g.Wait(); err != nil {
		return Overview{}, err
	}
	ov := assemble(q, counts)
	for _, tc := range counts {
		if tc.typ == typeConversion {
			ov.Revenue += tc.revenue
		}
	}
	ov.UniqueVisitors = uniq.visitors
	ov.Subscribers = Subscribers{Total: total, New: uniq.subscribed, Unsubscribed: uniq.unsubscribed, Lost: uniq.lost}
	return ov, nil
}

// typeCount is one row of the bucketed counts.
type typeCount struct {
	bucket  time.Time
	typ     string
	n       uint64
	revenue float64
}

// typeConversion is the event type whose revenue the overview sums.
const typeConversion = "conversion"

// rangeWhere scopes a query of the events table to the site and the range.
const rangeWhere = `site_id = {site:String} AND time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)}`

func rangeParams(q OverviewQuery) []any {
	return []any{
		clickhouse.Named("site", q.SiteID),
		clickhouse.DateNamed("from", q.From, clickhouse.MilliSeconds),
		clickhouse.DateNamed("to", q.To, clickhouse.MilliSeconds),
	}
}

func (c *ClickHouse) counts(ctx context.Context, q OverviewQuery, s span) ([]typeCount, error) {
	// toDateTime(..., tz) turns whatever toStartOfInterval returns (Date for
	// day and wider intervals on some versions) into the zone's instant.
	query := `SELECT bucket, typ, sum(n), sum(rev) FROM (
		SELECT ` + bucketOf("time", q.Interval) + ` AS bucket, toString(type) AS typ, count() AS n, sum(revenue) AS rev
		FROM events WHERE ` + spanWhere + ` GROUP BY bucket, typ
		UNION ALL
		SELECT ` + bucketOf("hour", q.Interval) + ` AS bucket, toString(type) AS typ, sum(events) AS n, sum(revenue) AS rev
		FROM events_hourly WHERE ` + rollupWhere + ` GROUP BY bucket, typ)
	GROUP BY bucket, typ ORDER BY bucket, typ`
	rows, err := c.conn.Query(ctx, query, spanParams(q, s)...)
	if err != nil {
		return nil, fmt.Errorf("query event counts: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []typeCount
	for rows.Next() {
		var unix int64
		var tc typeCount
		if err := rows.Scan(&unix, &tc.typ, &tc.n, &tc.revenue); err != nil {
			return nil, fmt.Errorf("read event counts: %w", err)
		}
		tc.bucket = time.Unix(unix, 0).In(q.Location)
		out = append(out, tc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read event counts: %w", err)
	}
	return out, nil
}

type rangeUniques struct{ visitors, subscribed, unsubscribed, lost uint64 }

// uniques merges distinct-subscriber states of the raw edges, the hourly
// rollup and the daily one (uniqCombined(14), as the rollups keep them:
// exact for small sets, about 0.8% off for large ones).
func (c *ClickHouse) uniques(ctx context.Context, q OverviewQuery, s, days span) (rangeUniques, error) {
	const types = `('page_view', 'subscribed', 'unsubscribed', 'subscription_expired')`
	query := `SELECT
		uniqCombinedMergeIf(14)(st, typ = 'page_view'),
		uniqCombinedMergeIf(14)(st, typ = 'subscribed'),
		uniqCombinedMergeIf(14)(st, typ = 'unsubscribed'),
		uniqCombinedMergeIf(14)(st, typ IN ('unsubscribed', 'subscription_expired'))
	FROM (
		SELECT toString(type) AS typ, uniqCombinedState(14)(subscriber_id) AS st
		FROM events WHERE ` + spanWhere + ` AND type IN ` + types + ` GROUP BY typ
		UNION ALL
		SELECT toString(type) AS typ, subscribers AS st
		FROM events_hourly WHERE ` + rollupWhere + ` AND NOT (hour >= {d1:DateTime64(3)} AND hour < {d2:DateTime64(3)})
		  AND type IN ` + types + `
		UNION ALL
		SELECT toString(type) AS typ, subscribers AS st
		FROM events_daily_uniq WHERE site_id = {site:String} AND day >= toDate({d1:DateTime64(3)}, 'UTC') AND day < toDate({d2:DateTime64(3)}, 'UTC')
		  AND type IN ` + types + `)`
	args := append(spanParams(q, s),
		clickhouse.DateNamed("d1", days.A, clickhouse.MilliSeconds), clickhouse.DateNamed("d2", days.B, clickhouse.MilliSeconds))
	var u rangeUniques
	if err := c.conn.QueryRow(ctx, query, args...).Scan(&u.visitors, &u.subscribed, &u.unsubscribed, &u.lost); err != nil {
		return u, fmt.Errorf("query unique visitors and subscribers: %w", err)
	}
	return u, nil
}

func (c *ClickHouse) subscribed(ctx context.Context, siteID string) (uint64, error) {
	var n uint64
	err := c.conn.QueryRow(ctx, `SELECT count() FROM subscribers FINAL WHERE site_id = {site:String} AND status = 'subscribed'`,
		clickhouse.Named("site", siteID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("query subscriber total: %w", err)
	}
	return n, nil
}

// assemble zero-fills the counts into the query's buckets. A bucket
// ClickHouse reports that the list lacks (a zone rule the two disagree on)
// is added rather than dropped, so the series always adds up to the totals.
func assemble(q OverviewQuery, counts []typeCount) Overview {
	ov := Overview{Totals: map[string]uint64{}}
	byStart := make(map[int64]int, len(q.Buckets))
	for _, b := range q.Buckets {
		byStart[b.Unix()] = len(ov.Series)
		ov.Series = append(ov.Series, Bucket{Start: b.In(q.Location), Counts: map[string]uint64{}})
	}
	for _, tc := range counts {
		i, ok := byStart[tc.bucket.Unix()]
		if !ok {
			i = len(ov.Series)
			byStart[tc.bucket.Unix()] = i
			ov.Series = append(ov.Series, Bucket{Start: tc.bucket, Counts: map[string]uint64{}})
		}
		ov.Series[i].Counts[tc.typ] += tc.n
		ov.Totals[tc.typ] += tc.n
	}
	sort.SliceStable(ov.Series, func(i, j int) bool { return ov.Series[i].Start.Before(ov.Series[j].Start) })
	for _, b := range ov.Series {
		for typ := range ov.Totals {
			if _, ok := b.Counts[typ]; !ok {
				b.Counts[typ] = 0
			}
		}
	}
	return ov
}
