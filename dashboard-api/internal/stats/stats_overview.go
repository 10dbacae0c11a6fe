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
}

// ClickHouse answers stats queries from the events and subscribers tables.
type ClickHouse struct{ conn driver.Conn }

// NewClickHouse queries through conn.
func NewClickHouse(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn} }

// Overview runs the overview queries concurrently.
func (c *ClickHouse) Overview(ctx context.Context, q OverviewQuery) (Overview, error) {
	if q.Location == nil {
		q.Location = time.UTC
	}
	var (
		counts []typeCount
		uniq   rangeUniques
		total  uint64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { counts, err = c.counts(gctx, q); return err })
	g.Go(func() (err error) { uniq, err = c.uniques(gctx, q); return err })
	g.Go(func() (err error) { total, err = c.subscribed(gctx, q.SiteID); return err })
	if err := g.Wait(); err != nil {
		return Overview{}, err
	}
	ov := assemble(q, counts)
	ov.UniqueVisitors = uniq.visitors
	ov.Subscribers = Subscribers{Total: total, New: uniq.subscribed, Unsubscribed: uniq.unsubscribed}
	return ov, nil
}

// typeCount is one row of the bucketed counts.
type typeCount struct {
	bucket time.Time
	typ    string
	n      uint64
}

// rangeWhere scopes a query of the events table to the site and the range.
const rangeWhere = `site_id = {site:String} AND time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)}`

func rangeParams(q OverviewQuery) []any {
	return []any{
		clickhouse.Named("site", q.SiteID),
		clickhouse.DateNamed("from", q.From, clickhouse.MilliSeconds),
		clickhouse.DateNamed("to", q.To, clickhouse.MilliSeconds),
	}
}

func (c *ClickHouse) counts(ctx context.Context, q OverviewQuery) ([]typeCount, error) {
	// toDateTime(..., tz) turns whatever toStartOfInterval returns (Date for
	// day and wider intervals on some versions) into the zone's instant.
	query := `SELECT toInt64(toUnixTimestamp(toDateTime(toStartOfInterval(time, ` + q.Interval.sqlInterval() + `, {tz:String}), {tz:String}))) AS bucket,
		toString(type) AS typ, count() AS n
	FROM events WHERE ` + rangeWhere + `
	GROUP BY bucket, typ ORDER BY bucket, typ`
	args := append(rangeParams(q), clickhouse.Named("tz", q.Location.String()))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query event counts: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []typeCount
	for rows.Next() {
		var unix int64
		var tc typeCount
		if err := rows.Scan(&unix, &tc.typ, &tc.n); err != nil {
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

type rangeUniques struct{ visitors, subscribed, unsubscribed uint64 }

func (c *ClickHouse) uniques(ctx context.Context, q OverviewQuery) (rangeUniques, error) {
	query := `SELECT
		uniqExactIf(subscriber_id, type = 'page_view'),
		uniqExactIf(subscriber_id, type = 'subscribed'),
		uniqExactIf(subscriber_id, type = 'unsubscribed')
	FROM events WHERE ` + rangeWhere
	var u rangeUniques
	if err := c.conn.QueryRow(ctx, query, rangeParams(q)...).Scan(&u.visitors, &u.subscribed, &u.unsubscribed); err != nil {
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
