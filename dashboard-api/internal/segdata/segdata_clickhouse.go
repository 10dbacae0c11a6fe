package segdata

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/segments"
)

// MembersQuery asks for one page of a segment's current members, in
// subscriber id order, after the subscriber id After ("" for the first page).
type MembersQuery struct {
	SiteID    string
	SegmentID string
	After     string
	Limit     int
}

// Member is a current member of a segment and when it entered.
type Member struct {
	SubscriberID string
	Since        time.Time
}

// EventsQuery asks for the events of one subscriber that rules evaluate at
// At: every type but segment_entered/segment_exited, time <= At, oldest
// first, at most Limit.
type EventsQuery struct {
	SiteID       string
	SubscriberID string
	At           time.Time
	Limit        int
}

// ClickHouse answers segment queries from the events and segment_membership tables.
type ClickHouse struct{ conn driver.Conn }

// NewClickHouse queries through conn.
func NewClickHouse(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn} }

// Count returns the number of rows the compiled members query q returns.
func (c *ClickHouse) Count(ctx context.Context, q segments.SQL) (uint64, error) {
	names := make([]string, 0, len(q.Args))
	for name := range q.Args {
		names = append(names, name)
	}
	sort.Strings(names)
	args := make([]any, len(names))
	for i, name := range names {
		args[i] = clickhouse.Named(name, q.Args[name])
	}
	var n uint64
	if err := c.conn.QueryRow(ctx, `SELECT count() FROM (`+q.Query+`)`, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment members: %w", err)
	}
	return n, nil
}

// Members returns one page of the segment's current members.
func (c *ClickHouse) Members(ctx context.Context, q MembersQuery) ([]Member, error) {
	rows, err := c.conn.Query(ctx, `SELECT subscriber_id, changed_at FROM segment_membership FINAL
		WHERE site_id = {site:String} AND segment_id = {segment:String} AND subscriber_id > {after:String} AND member = 1
		ORDER BY subscriber_id LIMIT {limit:UInt32}`,
		clickhouse.Named("site", q.SiteID), clickhouse.Named("segment", q.SegmentID),
		clickhouse.Named("after", q.After), clickhouse.Named("limit", uint32(max(q.Limit, 0))))
	if err != nil {
		return nil, fmt.Errorf("query segment members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.SubscriberID, &m.Since); err != nil {
			return nil, fmt.Errorf("read segment members: %w", err)
		}
		m.Since = m.Since.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segment members: %w", err)
	}
	return out, nil
}

// eventColumns are the events columns rules read, in segments.Event order.
const eventColumns = `toString(event_id), toString(type), toString(name), time, url, revenue, props,
	toString(browser), toString(os), toString(device_type), toString(language),
	toString(country), toString(region), city, toString(timezone)`

// Events returns the subscriber's evaluated events up to q.At, oldest first
// (ties by event id, as "latest" breaks them), at most q.Limit.
func (c *ClickHouse) Events(ctx context.Context, q EventsQuery) ([]segments.Event, error) {
	rows, err := c.conn.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE site_id = {site:String} AND subscriber_id = {subscriber:String}
		  AND type NOT IN ({entered:String}, {exited:String})
		  AND time <= fromUnixTimestamp64Milli({at:Int64}, 'UTC')
		ORDER BY time, toString(event_id) LIMIT {limit:UInt32}`,
		clickhouse.Named("site", q.SiteID), clickhouse.Named("subscriber", q.SubscriberID),
		clickhouse.Named("entered", string(schemas.EventSegmentEntered)),
		clickhouse.Named("exited", string(schemas.EventSegmentExited)),
		clickhouse.Named("at", q.At.UnixMilli()), clickhouse.Named("limit", uint32(max(q.Limit, 0))))
	if err != nil {
		return nil, fmt.Errorf("query subscriber events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []segments.Event{}
	for rows.Next() {
		var e segments.Event
		if err := rows.Scan(&e.ID, &e.Type, &e.Name, &e.Time, &e.URL, &e.Revenue, &e.Props,
			&e.Browser, &e.OS, &e.DeviceType, &e.Language, &e.Country, &e.Region, &e.City, &e.Timezone); err != nil {
			return nil, fmt.Errorf("read subscriber events: %w", err)
		}
		e.Time = e.Time.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read subscriber events: %w", err)
	}
	return out, nil
}
