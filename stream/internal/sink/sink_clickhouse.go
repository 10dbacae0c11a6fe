package sink

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/pushpipe/pushpipe/schemas"
)

// insertEvents names every column of events, in the order of rowValues.
const insertEvents = `INSERT INTO events (
	event_id, site_id, subscriber_id, external_id, session_id, type, name,
	time, client_time, server_time, url, referrer, title, props, revenue, currency,
	browser, browser_version, os, device_type, language, country, region, city, timezone, ip,
	push_id, campaign_id, automation_id, action, prompt_variant, segment_id, reason,
	endpoint, p256dh, auth, kafka_topic, kafka_partition, kafka_offset)`

// watermarkQuery tells "nothing stored" (count 0) from "offset 0 stored":
// max over no rows is 0 too.
const watermarkQuery = `SELECT count(), max(max_offset) FROM sink_progress WHERE topic = ? AND partition = ?`

const recentIDsQuery = `SELECT event_id FROM events
WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ? ORDER BY kafka_offset`

// ClickHouse is the Store of the events table. The caller owns the conn.
type ClickHouse struct {
	conn driver.Conn
}

// NewClickHouse returns a Store writing to the events table through conn.
func NewClickHouse(conn driver.Conn) *ClickHouse {
	return &ClickHouse{conn: conn}
}

// InsertBatch inserts b's rows in one INSERT with b.Token() as
// insert_deduplication_token: ClickHouse drops a repeat of the same batch
// (the events table keeps a non_replicated_deduplication_window). Events
// whose times span many months must not fail the batch for good, so the
// per-insert partition limit only warns.
func (c *ClickHouse) InsertBatch(ctx context.Context, b *Batch) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplicate":                       1,
		"insert_deduplication_token":               b.Token(),
		"throw_on_max_partitions_per_insert_block": 0,
	}))
	batch, err := c.conn.PrepareBatch(ctx, insertEvents)
	if err != nil {
		return fmt.Errorf("prepare insert %s: %w", b.Token(), err)
	}
	defer func() { _ = batch.Close() }()
	for i := range b.Rows {
		if err := batch.Append(rowValues(&b.Rows[i], b.Topic, b.Partition)...); err != nil {
			return fmt.Errorf("append offset %d to insert %s: %w", b.Rows[i].Offset, b.Token(), err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert %s: %w", b.Token(), err)
	}
	return nil
}

// Watermark returns the highest offset of topic/partition recorded in
// sink_progress by the materialized view, and ok=false when there is none.
func (c *ClickHouse) Watermark(ctx context.Context, topic string, partition int) (int64, bool, error) {
	var n, hi uint64
	if err := c.conn.QueryRow(ctx, watermarkQuery, topic, uint32(partition)).Scan(&n, &hi); err != nil {
		return 0, false, fmt.Errorf("read watermark of %s/%d: %w", topic, partition, err)
	}
	return int64(hi), n > 0, nil
}

// RecentIDs implements Store. The kafka_position skip index keeps it to the
// parts holding that partition's recent offsets.
func (c *ClickHouse) RecentIDs(ctx context.Context, topic string, partition int, after int64) ([]uuid.UUID, error) {
	rows, err := c.conn.Query(ctx, recentIDsQuery, topic, uint32(partition), uint64(max(after+1, 0)))
	if err != nil {
		return nil, fmt.Errorf("read recent ids of %s/%d: %w", topic, partition, err)
	}
	defer func() { _ = rows.Close() }()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read recent ids of %s/%d: %w", topic, partition, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent ids of %s/%d: %w", topic, partition, err)
	}
	return ids, nil
}

// rowValues returns r's values in the order of the columns of insertEvents.
func rowValues(r *Row, topic string, partition int) []any {
	e := &r.Event
	var sub schemas.Subscription
	if e.Subscription != nil {
		sub = *e.Subscription
	}
	props := e.Props
	if props == nil {
		props = map[string]string{}
	}
	return []any{
		r.ID, e.SiteID, e.SubscriberID, e.ExternalID, e.SessionID, string(e.Type), e.Name,
		chTime(e.Time), chTime(e.ClientTime), chTime(e.ServerTime), e.URL, e.Referrer, e.Title, props, e.Revenue, e.Currency,
		e.Device.Browser, e.Device.BrowserVersion, e.Device.OS, e.Device.Type, e.Device.Language,
		e.Geo.Country, e.Geo.Region, e.Geo.City, e.Timezone, e.IP,
		e.PushID, e.CampaignID, e.AutomationID, e.Action, e.PromptVariant, e.SegmentID, e.Reason,
		sub.Endpoint, sub.P256dh, sub.Auth, topic, uint32(partition), uint64(r.Offset),
	}
}

// The range of DateTime64(3) that the driver can encode (it goes through
// UnixNano); the zero time is stored as the Unix epoch.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// chTime clamps t into the range DateTime64(3) can hold, so one absurd
// client clock cannot make a batch fail forever.
func chTime(t time.Time) time.Time {
	switch {
	case t.IsZero():
		return t
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t
}
