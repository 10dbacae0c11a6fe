package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// SegmentSizesQuery asks for the sizes of some of a site's segments over a
// range (SegmentIDs: the caller lists the live segments of the site).
type SegmentSizesQuery struct {
	OverviewQuery
	SegmentIDs []string
}

// SegmentSeries is one segment's size over time.
type SegmentSeries struct {
	SegmentID string
	Start     int64 // members at From
	Series    []SegmentBucket
}

// SegmentBucket is a segment's changes in one bucket and its size at the
// end of it (or at To for the last).
type SegmentBucket struct {
	Start           time.Time
	Entered, Exited uint64
	Size            int64
}

// SegmentSizes reads segment_history: the size at From is the sum of every
// entry minus every exit before it, then each bucket adds its own.
func (c *ClickHouse) SegmentSizes(ctx context.Context, q SegmentSizesQuery) ([]SegmentSeries, error) {
	q.OverviewQuery = q.withZone()
	if len(q.SegmentIDs) == 0 {
		return []SegmentSeries{}, nil
	}
	query := `SELECT segment_id, time < {from:DateTime64(3)} AS before,
		if(before, toInt64(0), ` + bucketOf("time", q.Interval) + `) AS bucket,
		countIf(entered = 1), countIf(entered = 0)
	FROM segment_history
	WHERE site_id = {site:String} AND segment_id IN {ids:Array(String)} AND time < {to:DateTime64(3)}
	GROUP BY segment_id, before, bucket`
	ids := q.SegmentIDs
	if ids == nil {
		ids = []string{}
	}
	args := append(rangeParams(q.OverviewQuery), clickhouse.Named("tz", zone(q.OverviewQuery)), clickhouse.Named("ids", ids))
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query segment sizes: %w", err)
	}
	defer func() { _ = rows.Close() }()
	base := map[string]int64{}
	changes := map[string]map[int64][2]uint64{}
	for rows.Next() {
		var id string
		var before bool
		var unix int64
		var in, out uint64
		if err := rows.Scan(&id, &before, &unix, &in, &out); err != nil {
			return nil, fmt.Errorf("read segment sizes: %w", err)
		}
		if before {
			base[id] += int64(in) - int64(out)
			continue
		}
		if changes[id] == nil {
			changes[id] = map[int64][2]uint64{}
		}
		changes[id][unix] = [2]uint64{in, out}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segment sizes: %w", err)
	}
	out := make([]SegmentSeries, 0, len(q.SegmentIDs))
	for _, id := range q.SegmentIDs {
		out = append(out, sizeSeries(q.OverviewQuery, id, base[id], changes[id]))
	}
	return out, nil
}

// sizeSeries runs the sum of entries minus exits over the buckets.
func sizeSeries(q OverviewQuery, id string, start int64, changes map[int64][2]uint64) SegmentSeries {
	starts := append([]time.Time(nil), q.Buckets...)
	listed := map[int64]bool{}
	for _, b := range starts {
		listed[b.Unix()] = true
	}
	for unix := range changes {
		if !listed[unix] {
			starts = append(starts, time.Unix(unix, 0))
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	s := SegmentSeries{SegmentID: id, Start: start}
	size := start
	for _, b := range starts {
		ch := changes[b.Unix()]
		size += int64(ch[0]) - int64(ch[1])
		s.Series = append(s.Series, SegmentBucket{Start: b.In(q.Location), Entered: ch[0], Exited: ch[1], Size: size})
	}
	return s
}
