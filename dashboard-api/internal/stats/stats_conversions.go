package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ConversionsQuery asks for one site's conversions in a range by goal (the
// conversion's name). A conversion is attributed when the same subscriber
// clicked a push at most Window before it (both bounds inclusive), the rule
// of the attribution report.
type ConversionsQuery struct {
	OverviewQuery
	Window time.Duration
}

// GoalCounts are the conversions of one goal, or of one goal in one bucket.
type GoalCounts struct {
	Conversions, Attributed    uint64
	Revenue, AttributedRevenue float64
	Subscribers                uint64 // distinct converters (0 in series buckets)
}

// Goal is one goal's totals and series.
type Goal struct {
	Name   string
	Totals GoalCounts
	Series []GoalBucket // every bucket of the query, zero-filled
}

// GoalBucket is a goal's conversions in one bucket.
type GoalBucket struct {
	Start time.Time
	GoalCounts
}

// Conversions counts conversions by goal and bucket, attributed or not.
func (c *ClickHouse) Conversions(ctx context.Context, q ConversionsQuery) ([]Goal, error) {
	q.OverviewQuery = q.withZone()
	query := `WITH clicks AS (
			SELECT subscriber_id, toUnixTimestamp64Milli(time) AS ms FROM events
			WHERE site_id = {site:String} AND type = 'push_clicked'
			  AND time >= {from:DateTime64(3)} - toIntervalMillisecond({window:Int64}) AND time < {to:DateTime64(3)})
	SELECT bucket, goal, grouping(bucket) = 1 AS total, count(), countIf(attributed), sum(revenue), sumIf(revenue, attributed), uniq(subscriber_id)
	FROM (
		SELECT cv.bucket AS bucket, cv.goal AS goal, cv.revenue AS revenue, cv.subscriber_id AS subscriber_id,
			cl.subscriber_id != '' AND cv.ms <= cl.ms + {window:Int64} AS attributed
		FROM (
			SELECT ` + bucketOf("time", q.Interval) + ` AS bucket, toString(name) AS goal, revenue, subscriber_id,
				toUnixTimestamp64Milli(time) AS ms
			FROM events WHERE ` + rangeWhere + ` AND type = 'conversion'
		) AS cv
		ASOF LEFT JOIN clicks AS cl ON cv.subscriber_id = cl.subscriber_id AND cv.ms >= cl.ms)
	GROUP BY GROUPING SETS ((bucket, goal), (goal))
	ORDER BY goal, bucket`
	args := append(rangeParams(q.OverviewQuery), clickhouse.Named("tz", zone(q.OverviewQuery)),
		clickhouse.Named("window", q.Window.Milliseconds()))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query conversions: %w", err)
	}
	defer func() { _ = rows.Close() }()
	goals := map[string]*Goal{}
	series := map[string]map[int64]GoalCounts{}
	for rows.Next() {
		var unix int64
		var name string
		var total bool
		var gc GoalCounts
		if err := rows.Scan(&unix, &name, &total, &gc.Conversions, &gc.Attributed, &gc.Revenue, &gc.AttributedRevenue, &gc.Subscribers); err != nil {
			return nil, fmt.Errorf("read conversions: %w", err)
		}
		if goals[name] == nil {
			goals[name], series[name] = &Goal{Name: name}, map[int64]GoalCounts{}
		}
		if total { // the (goal) grouping set: the goal's totals
			goals[name].Totals = gc
			continue
		}
		gc.Subscribers = 0
		series[name][unix] = gc
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read conversions: %w", err)
	}
	return assembleGoals(q.OverviewQuery, goals, series), nil
}

// assembleGoals zero-fills each goal's series into the query's buckets,
// goals by conversions, most first.
func assembleGoals(q OverviewQuery, goals map[string]*Goal, series map[string]map[int64]GoalCounts) []Goal {
	out := make([]Goal, 0, len(goals))
	for name, g := range goals {
		seen := map[int64]bool{}
		for _, b := range q.Buckets {
			seen[b.Unix()] = true
			g.Series = append(g.Series, GoalBucket{Start: b.In(q.Location), GoalCounts: series[name][b.Unix()]})
		}
		for unix, gc := range series[name] { // a bucket the list lacks is kept (see assemble)
			if !seen[unix] {
				g.Series = append(g.Series, GoalBucket{Start: time.Unix(unix, 0).In(q.Location), GoalCounts: gc})
			}
		}
		sort.SliceStable(g.Series, func(i, j int) bool { return g.Series[i].Start.Before(g.Series[j].Start) })
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Totals.Conversions != out[j].Totals.Conversions {
			return out[i].Totals.Conversions > out[j].Totals.Conversions
		}
		return out[i].Name < out[j].Name
	})
	return out
}
