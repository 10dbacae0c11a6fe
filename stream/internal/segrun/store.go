package segrun

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/segments"
)

// Store reads what the sink stored: the replay source of a restore.
type Store interface {
	// Watermark is the highest offset of the partition stored in ClickHouse,
	// or -1 when none is.
	Watermark(ctx context.Context, topic string, partition int) (int64, error)
	// Replay calls fn with the evaluated events of sites stored from the
	// partition below offset before, grouped by site and subscriber, by time.
	Replay(ctx context.Context, q Scope, fn func(site, sub string, e *segments.Event) error) error
	// Transitions calls fn with the last transition stored per site,
	// segment and subscriber from the partition below offset before, and
	// the instant of the latest of their transitions.
	Transitions(ctx context.Context, q Scope, fn func(site, segment, sub string, entered bool, latest time.Time) error) error
}

// Scope selects the stored rows of a restore.
type Scope struct {
	Topic     string
	Partition int
	Before    int64    // offsets below this
	Sites     []string // only these sites
}

// ClickHouse is the Store of the events table.
type ClickHouse struct{ conn driver.Conn }

// NewClickHouse reads the events table through conn; the caller owns conn.
func NewClickHouse(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn} }

// Watermark implements Store.
func (c *ClickHouse) Watermark(ctx context.Context, topic string, partition int) (int64, error) {
	var n uint64
	var maxOffset uint64
	row := c.conn.QueryRow(ctx, `SELECT count(), max(max_offset) FROM sink_progress WHERE topic = ? AND partition = ?`,
		topic, uint32(partition))
	if err := row.Scan(&n, &maxOffset); err != nil {
		return 0, fmt.Errorf("read sink watermark of %s/%d: %w", topic, partition, err)
	}
	if n == 0 {
		return -1, nil
	}
	return int64(maxOffset), nil
}

const replayQuery = `SELECT site_id, subscriber_id, toString(event_id), type, name, time, url, revenue, props,
	browser, os, device_type, language, country, region, city, timezone
FROM events
WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset < ? AND site_id IN ?
	AND type NOT IN ('segment_entered', 'segment_exited')
ORDER BY site_id, subscriber_id, time`

// Replay implements Store.
func (c *ClickHouse) Replay(ctx context.Context, q Scope, fn func(site, sub string, e *segments.Event) error) error {
	rows, err := c.conn.Query(ctx, replayQuery, q.Topic, uint32(q.Partition), uint64(max(q.Before, 0)), q.Sites)
	if err != nil {
		return fmt.Errorf("replay %s/%d: %w", q.Topic, q.Partition, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var site, sub string
		var e segments.Event
		var at time.Time
		if err := rows.Scan(&site, &sub, &e.ID, &e.Type, &e.Name, &at, &e.URL, &e.Revenue, &e.Props,
			&e.Browser, &e.OS, &e.DeviceType, &e.Language, &e.Country, &e.Region, &e.City, &e.Timezone); err != nil {
			return fmt.Errorf("replay %s/%d: %w", q.Topic, q.Partition, err)
		}
		e.Time = at
		if err := fn(site, sub, &e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("replay %s/%d: %w", q.Topic, q.Partition, err)
	}
	return nil
}

const transitionsQuery = `SELECT site_id, segment_id, subscriber_id, argMax(type, kafka_offset) = 'segment_entered', max(time)
FROM events
WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset < ? AND site_id IN ?
	AND type IN ('segment_entered', 'segment_exited')
GROUP BY site_id, segment_id, subscriber_id`

// Transitions implements Store.
func (c *ClickHouse) Transitions(ctx context.Context, q Scope, fn func(site, segment, sub string, entered bool, latest time.Time) error) error {
	rows, err := c.conn.Query(ctx, transitionsQuery, q.Topic, uint32(q.Partition), uint64(max(q.Before, 0)), q.Sites)
	if err != nil {
		return fmt.Errorf("read transitions %s/%d: %w", q.Topic, q.Partition, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var site, seg, sub string
		var entered bool
		var latest time.Time
		if err := rows.Scan(&site, &seg, &sub, &entered, &latest); err != nil {
			return fmt.Errorf("read transitions %s/%d: %w", q.Topic, q.Partition, err)
		}
		if err := fn(site, seg, sub, entered, latest); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read transitions %s/%d: %w", q.Topic, q.Partition, err)
	}
	return nil
}
