package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// SubscribersQuery asks for a page of one site's subscribers, by id, after
// After. Empty filters match everything.
type SubscribersQuery struct {
	SiteID    string
	Status    string // subscribed, unsubscribed, expired
	Country   string
	SegmentID string // current members of this segment
	After     string
	Limit     int
}

// Subscriber is a subscriber's current state (no push endpoint or keys).
type Subscriber struct {
	SubscriberID, Status, ExternalID  string
	Browser, OS, DeviceType, Language string
	Country, Timezone                 string
	UpdatedAt                         time.Time
}

// Subscribers reads a page of the subscribers table, latest state per subscriber.
func (c *ClickHouse) Subscribers(ctx context.Context, q SubscribersQuery) ([]Subscriber, error) {
	query := `SELECT subscriber_id, toString(status), external_id, toString(browser), toString(os), toString(device_type),
		toString(language), toString(country), toString(timezone), updated_at
	FROM subscribers FINAL
	WHERE site_id = {site:String} AND subscriber_id > {after:String}
	  AND ({status:String} = '' OR status = {status:String})
	  AND ({country:String} = '' OR country = {country:String})
	  AND ({segment:String} = '' OR subscriber_id IN (
		SELECT subscriber_id FROM segment_membership FINAL
		WHERE site_id = {site:String} AND segment_id = {segment:String} AND member = 1))
	ORDER BY subscriber_id LIMIT {limit:UInt32}`
	rows, err := c.conn.Query(ctx, query,
		clickhouse.Named("site", q.SiteID), clickhouse.Named("after", q.After), clickhouse.Named("status", q.Status),
		clickhouse.Named("country", q.Country), clickhouse.Named("segment", q.SegmentID), clickhouse.Named("limit", uint32(max(q.Limit, 1))))
	if err != nil {
		return nil, fmt.Errorf("query subscribers: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []Subscriber{}
	for rows.Next() {
		var s Subscriber
		if err := rows.Scan(&s.SubscriberID, &s.Status, &s.ExternalID, &s.Browser, &s.OS, &s.DeviceType,
			&s.Language, &s.Country, &s.Timezone, &s.UpdatedAt); err != nil {
			return nil, fmt.Errorf("read subscribers: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read subscribers: %w", err)
	}
	return out, nil
}

// TimelineQuery asks for a page of one subscriber's events, newest first,
// strictly before the (Before, BeforeID) position when Before is set.
type TimelineQuery struct {
	SiteID, SubscriberID string
	Before               time.Time
	BeforeID             string // event id at Before: events at the same instant with a smaller id come next
	Limit                int
}

// TimelineEvent is one event of a subscriber's timeline.
type TimelineEvent struct {
	EventID, Type, Name, URL  string
	Time                      time.Time
	CampaignID, AutomationID  string
	PushID, SegmentID, Reason string
	Revenue                   float64
	Currency                  string
	Props                     map[string]string
}

// Timeline reads a page of a subscriber's events, every type, newest first.
func (c *ClickHouse) Timeline(ctx context.Context, q TimelineQuery) ([]TimelineEvent, error) {
	query := `SELECT toString(event_id) AS id, toString(type), toString(name), url, time, campaign_id, automation_id,
		push_id, segment_id, reason, revenue, toString(currency), CAST(props, 'Map(String, String)')
	FROM events
	WHERE site_id = {site:String} AND subscriber_id = {sub:String}
	  AND ({paged:Bool} = false OR (time, id) < ({before:DateTime64(3)}, {before_id:String}))
	ORDER BY time DESC, id DESC LIMIT {limit:UInt32}`
	before := q.Before
	if before.IsZero() {
		before = time.Unix(0, 0) // a valid DateTime64, unused
	}
	rows, err := c.conn.Query(ctx, query,
		clickhouse.Named("site", q.SiteID), clickhouse.Named("sub", q.SubscriberID), clickhouse.Named("paged", !q.Before.IsZero()),
		clickhouse.DateNamed("before", before, clickhouse.MilliSeconds), clickhouse.Named("before_id", q.BeforeID),
		clickhouse.Named("limit", uint32(max(q.Limit, 1))))
	if err != nil {
		return nil, fmt.Errorf("query timeline: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []TimelineEvent{}
	for rows.Next() {
		var e TimelineEvent
		if err := rows.Scan(&e.EventID, &e.Type, &e.Name, &e.URL, &e.Time, &e.CampaignID, &e.AutomationID,
			&e.PushID, &e.SegmentID, &e.Reason, &e.Revenue, &e.Currency, &e.Props); err != nil {
			return nil, fmt.Errorf("read timeline: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	return out, nil
}

// SubscribedAt counts the subscribers of a site whose latest subscription
// event before t is a subscription: the subscriber total as it was at t.
func (c *ClickHouse) SubscribedAt(ctx context.Context, siteID string, t time.Time) (uint64, error) {
	var n uint64
	err := c.conn.QueryRow(ctx, `SELECT countIf(last = 'subscribed') FROM (
		SELECT argMax(toString(type), time) AS last FROM events
		WHERE site_id = {site:String} AND type IN ('subscribed', 'unsubscribed', 'subscription_expired') AND time < {at:DateTime64(3)}
		GROUP BY subscriber_id)`,
		clickhouse.Named("site", siteID), clickhouse.DateNamed("at", t, clickhouse.MilliSeconds)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("query subscribers at a time: %w", err)
	}
	return n, nil
}
