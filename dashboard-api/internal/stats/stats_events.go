package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TrendsQuery asks for the counts of custom events per bucket. Names are
// the event names; none means the TopNames most frequent of the range.
type TrendsQuery struct {
	OverviewQuery
	Names    []string
	TopNames int
}

// Trends is one series per event name, every bucket of the query zero-filled.
type Trends struct {
	Names  []string          // in the order asked, or most frequent first
	Series []Bucket          // Counts by event name
	Totals map[string]uint64 // by event name, over the range
}

// EventTrends counts custom events by name and bucket, from the rollup
// where it holds the answer.
func (c *ClickHouse) EventTrends(ctx context.Context, q TrendsQuery) (Trends, error) {
	q.OverviewQuery = q.withZone()
	since, err := c.rollupSince(ctx)
	if err != nil {
		return Trends{}, err
	}
	s := splitRange(q.OverviewQuery, since)
	names := q.Names
	if len(names) == 0 {
		if names, err = c.topNames(ctx, q, s); err != nil {
			return Trends{}, err
		}
	}
	query := `SELECT bucket, nm, sum(n) FROM (
		SELECT ` + bucketOf("time", q.Interval) + ` AS bucket, toString(name) AS nm, count() AS n
		FROM events WHERE ` + spanWhere + ` AND type = 'custom' AND name IN {names:Array(String)} GROUP BY bucket, nm
		UNION ALL
		SELECT ` + bucketOf("hour", q.Interval) + ` AS bucket, toString(name) AS nm, sum(events) AS n
		FROM events_hourly WHERE ` + rollupWhere + ` AND type = 'custom' AND name IN {names:Array(String)} GROUP BY bucket, nm)
	GROUP BY bucket, nm ORDER BY bucket, nm`
	args := append(spanParams(q.OverviewQuery, s), clickhouse.Named("names", names))
	counts, err := c.bucketCounts(ctx, "custom event trends", query, q.Location, args)
	if err != nil {
		return Trends{}, err
	}
	ov := assemble(q.OverviewQuery, counts)
	for _, b := range ov.Series {
		for _, n := range names {
			b.Counts[n] += 0
		}
	}
	for _, n := range names {
		ov.Totals[n] += 0
	}
	return Trends{Names: names, Series: ov.Series, Totals: ov.Totals}, nil
}

// topNames returns the most frequent custom event names of the range.
func (c *ClickHouse) topNames(ctx context.Context, q TrendsQuery, s span) ([]string, error) {
	query := `SELECT nm FROM (
		SELECT toString(name) AS nm, count() AS n FROM events WHERE ` + spanWhere + ` AND type = 'custom' GROUP BY nm
		UNION ALL
		SELECT toString(name) AS nm, sum(events) AS n FROM events_hourly WHERE ` + rollupWhere + ` AND type = 'custom' GROUP BY nm)
	GROUP BY nm ORDER BY sum(n) DESC, nm LIMIT {limit:UInt32}`
	args := append(spanParams(q.OverviewQuery, s), clickhouse.Named("limit", uint32(max(q.TopNames, 1))))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query top event names: %w", err)
	}
	defer func() { _ = rows.Close() }()
	names := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("read top event names: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read top event names: %w", err)
	}
	return names, nil
}

// bucketCounts runs a query of (bucket unix seconds, key, count) rows.
func (c *ClickHouse) bucketCounts(ctx context.Context, what, query string, loc *time.Location, args []any) ([]typeCount, error) {
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", what, err)
	}
	defer func() { _ = rows.Close() }()
	var out []typeCount
	for rows.Next() {
		var unix int64
		var tc typeCount
		if err := rows.Scan(&unix, &tc.typ, &tc.n); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		tc.bucket = time.Unix(unix, 0).In(loc)
		out = append(out, tc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// BreakdownQuery asks for the values of one property of custom events
// (those named Names, or all) in a range: the Limit most frequent.
type BreakdownQuery struct {
	OverviewQuery
	Names    []string
	Property string
	Limit    int
}

// BreakdownRow is one value of the property ("" when the event lacks it).
type BreakdownRow struct {
	Value       string
	Events      uint64
	Subscribers uint64 // distinct
}

// Breakdown is the top values and the total over every value.
type Breakdown struct {
	Total BreakdownRow
	Rows  []BreakdownRow
}

// EventBreakdown counts custom events by the value of one property.
func (c *ClickHouse) EventBreakdown(ctx context.Context, q BreakdownQuery) (Breakdown, error) {
	query := `SELECT props[{prop:String}] AS v, count(), uniq(subscriber_id)
	FROM events
	WHERE ` + rangeWhere + ` AND type = 'custom' AND (empty({names:Array(String)}) OR name IN {names:Array(String)})
	GROUP BY v WITH TOTALS ORDER BY 2 DESC, v LIMIT {limit:UInt32}`
	names := q.Names
	if names == nil {
		names = []string{}
	}
	args := append(rangeParams(q.OverviewQuery), clickhouse.Named("prop", q.Property), clickhouse.Named("names", names),
		clickhouse.Named("limit", uint32(max(q.Limit, 1))))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return Breakdown{}, fmt.Errorf("query event breakdown: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var b Breakdown
	for rows.Next() {
		var r BreakdownRow
		if err := rows.Scan(&r.Value, &r.Events, &r.Subscribers); err != nil {
			return Breakdown{}, fmt.Errorf("read event breakdown: %w", err)
		}
		b.Rows = append(b.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return Breakdown{}, fmt.Errorf("read event breakdown: %w", err)
	}
	if err := rows.Totals(&b.Total.Value, &b.Total.Events, &b.Total.Subscribers); err != nil {
		return Breakdown{}, fmt.Errorf("read event breakdown totals: %w", err)
	}
	b.Total.Value = ""
	sort.SliceStable(b.Rows, func(i, j int) bool { return b.Rows[i].Events > b.Rows[j].Events })
	return b, nil
}
