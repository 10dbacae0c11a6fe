package backtest

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouse reads a site's stored events for backtests.
type ClickHouse struct{ conn driver.Conn }

// NewClickHouse reads through conn.
func NewClickHouse(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn} }

// where selects the events of a Query.
const where = ` WHERE site_id = {site:String}
	  AND time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
	  AND (type IN {types:Array(String)}
	       OR (type IN ('segment_entered', 'segment_exited') AND segment_id IN {segments:Array(String)}))`

func args(q Query) []any {
	types, segs := q.Types, q.Segments
	if types == nil {
		types = []string{}
	}
	if segs == nil {
		segs = []string{}
	}
	return []any{
		clickhouse.Named("site", q.SiteID), clickhouse.Named("from", q.From.UnixMilli()), clickhouse.Named("to", q.To.UnixMilli()),
		clickhouse.Named("types", types), clickhouse.Named("segments", segs), clickhouse.Named("limit", uint64(max(q.Limit, 0))),
	}
}

// CountEvents counts the events of q.
func (c *ClickHouse) CountEvents(ctx context.Context, q Query) (uint64, error) {
	var n uint64
	if err := c.conn.QueryRow(ctx, `SELECT count() FROM events`+where, args(q)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// eventColumns are what an Event holds, in Scan order.
const eventColumns = `toString(event_id), subscriber_id, toString(type), toString(name), time, url, revenue, props,
	toString(browser), toString(os), toString(device_type), toString(language),
	toString(country), toString(region), city, segment_id, reason, toString(timezone)`

// Events calls fn with each event of q, oldest first (ties by event id), at
// most q.Limit.
func (c *ClickHouse) Events(ctx context.Context, q Query, fn func(*Event) error) error {
	rows, err := c.conn.Query(ctx, `SELECT `+eventColumns+` FROM events`+where+
		` ORDER BY time, toString(event_id) LIMIT {limit:UInt64}`, args(q)...)
	if err != nil {
		return fmt.Errorf("query events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.SubscriberID, &e.Type, &e.Name, &e.Time, &e.URL, &e.Revenue, &e.Props,
			&e.Browser, &e.OS, &e.DeviceType, &e.Language, &e.Country, &e.Region, &e.City,
			&e.SegmentID, &e.Reason, &e.Timezone); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		e.Time = e.Time.UTC()
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	return nil
}

// Members returns the members of each segment at at, from the history of
// its transitions (the latest one before at wins).
func (c *ClickHouse) Members(ctx context.Context, siteID string, segmentIDs []string, at time.Time) (map[string]map[string]bool, error) {
	rows, err := c.conn.Query(ctx, `SELECT segment_id, subscriber_id FROM segment_history
		WHERE site_id = {site:String} AND segment_id IN {segments:Array(String)} AND time < fromUnixTimestamp64Milli({at:Int64}, 'UTC')
		GROUP BY segment_id, subscriber_id
		HAVING argMax(entered, time) = 1`,
		clickhouse.Named("site", siteID), clickhouse.Named("segments", segmentIDs), clickhouse.Named("at", at.UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("query segment members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var seg, sub string
		if err := rows.Scan(&seg, &sub); err != nil {
			return nil, fmt.Errorf("read segment members: %w", err)
		}
		if out[seg] == nil {
			out[seg] = map[string]bool{}
		}
		out[seg][sub] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segment members: %w", err)
	}
	return out, nil
}

// Subscribed returns the subscribers whose latest subscribed, unsubscribed
// or subscription_expired event before at is a subscribe.
func (c *ClickHouse) Subscribed(ctx context.Context, siteID string, at time.Time) (map[string]bool, error) {
	rows, err := c.conn.Query(ctx, `SELECT subscriber_id FROM events
		WHERE site_id = {site:String} AND type IN ('subscribed', 'unsubscribed', 'subscription_expired')
		  AND time < fromUnixTimestamp64Milli({at:Int64}, 'UTC')
		GROUP BY subscriber_id
		HAVING argMax(type, time) = 'subscribed'`,
		clickhouse.Named("site", siteID), clickhouse.Named("at", at.UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("query subscriptions: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]bool{}
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			return nil, fmt.Errorf("read subscriptions: %w", err)
		}
		out[sub] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return out, nil
}
