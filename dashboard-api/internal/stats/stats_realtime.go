package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// RealtimeMinutes is how many minutes the real-time view shows.
const RealtimeMinutes = 30

// Minute is one minute of the real-time view.
type Minute struct {
	Start                 time.Time
	Events, Visitors      uint64 // all events; distinct subscribers with a page view
	Subscriptions, Clicks uint64
}

// Realtime counts the site's events in the RealtimeMinutes minutes up to
// now (the current minute last, partial), every minute zero-filled.
func (c *ClickHouse) Realtime(ctx context.Context, siteID string, now time.Time) ([]Minute, error) {
	first := now.UTC().Truncate(time.Minute).Add(-(RealtimeMinutes - 1) * time.Minute)
	query := `SELECT toInt64(toUnixTimestamp(toStartOfMinute(time))) AS m, count(), uniqIf(subscriber_id, type = 'page_view'),
		countIf(type = 'subscribed'), countIf(type = 'push_clicked')
	FROM events
	WHERE site_id = {site:String} AND time >= {from:DateTime64(3)} AND time <= {to:DateTime64(3)}
	GROUP BY m`
	rows, err := c.conn.Query(ctx, query, clickhouse.Named("site", siteID),
		clickhouse.DateNamed("from", first, clickhouse.MilliSeconds), clickhouse.DateNamed("to", now, clickhouse.MilliSeconds))
	if err != nil {
		return nil, fmt.Errorf("query real-time view: %w", err)
	}
	defer func() { _ = rows.Close() }()
	byMinute := map[int64]Minute{}
	for rows.Next() {
		var unix int64
		var m Minute
		if err := rows.Scan(&unix, &m.Events, &m.Visitors, &m.Subscriptions, &m.Clicks); err != nil {
			return nil, fmt.Errorf("read real-time view: %w", err)
		}
		byMinute[unix] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read real-time view: %w", err)
	}
	out := make([]Minute, RealtimeMinutes)
	for i := range out {
		start := first.Add(time.Duration(i) * time.Minute)
		out[i] = byMinute[start.Unix()]
		out[i].Start = start
	}
	return out, nil
}
